/**
 * `--json` always prints a JSON document on stdout, also when the command fails: usage errors (an
 * unknown option, a rejected `--to`, a missing `--reason`), configuration errors, an unknown
 * environment, a held lock, a bug. A matrix over every subcommand that takes `--json`, through the
 * built bin; the exit code and the message on stderr stay what they were.
 */
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { BufferWriter } from '../../src/cli/output.js';
import { EnvLock } from '../../src/core/engine/lock.js';
import { LocalExecutor } from '../../src/core/exec/local.js';
import { StateDir } from '../../src/core/state/state-dir.js';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { runBin, symlinkEnvironment, writeConfigFile, type BinRun } from './bin.js';

/** The commands that take --json, each with the words it needs to get past its own option checks. */
const COMMANDS: Record<string, string[]> = {
  list: ['list', '--env', 'prod'],
  verify: ['verify', '--env', 'prod'],
  snapshot: ['snapshot', '--env', 'prod'],
  history: ['history', '--env', 'prod'],
  stats: ['stats', '--env', 'prod'],
  monitor: ['monitor', '--env', 'prod', '--once'],
  rollback: ['rollback', '--env', 'prod', '--reason', 'json matrix', '--yes'],
  'config show': ['config', 'show', '--env', 'prod'],
  'config check': ['config', 'check'],
};

interface FailureDoc {
  ok: boolean;
  error: string;
  exit_code: number;
  code?: string;
  hint?: string;
  errors?: string[];
}

/** The run's stdout is one JSON document saying it failed with the run's own exit code. */
function failureOf(r: BinRun, what: string): FailureDoc {
  expect(r.stdout.trim(), `${what}: stdout (stderr: ${r.stderr})`).not.toBe('');
  const doc = JSON.parse(r.stdout) as FailureDoc;
  expect(doc.ok, what).toBe(false);
  expect(typeof doc.error, what).toBe('string');
  expect(doc.error.length, what).toBeGreaterThan(0);
  expect(doc.exit_code, what).toBe(r.code);
  return doc;
}

describe('--json on failure, for every subcommand that takes it', () => {
  let layout: ReleaseLayout;
  let config: string;
  beforeAll(() => {
    layout = makeReleaseLayout({ count: 3 });
    config = writeConfigFile(`environments:\n${symlinkEnvironment('prod', layout)}`);
  });
  afterAll(() => layout.cleanup());

  it('an unknown option: 64, the usage message on stderr and in the document', async () => {
    for (const [name, args] of Object.entries(COMMANDS)) {
      const r = await runBin([...args, '--json', '--bogus'], { env: { ROLLBACK_CONFIG: config } });
      expect(r.code, name).toBe(64);
      expect(r.stderr).toContain("unknown option '--bogus'");
      expect(failureOf(r, name)).toMatchObject({ code: 'USAGE', error: "unknown option '--bogus'" });
    }
  });

  it('a configuration error: 78 with every problem listed', async () => {
    const broken = writeConfigFile('rollback_policy:\n  trigers: {}\nenvironments: {}\n');
    for (const [name, args] of Object.entries(COMMANDS)) {
      const r = await runBin([...args, '--json'], { env: { ROLLBACK_CONFIG: broken } });
      expect(r.code, `${name}: ${r.stderr}`).toBe(78);
      const doc = failureOf(r, name);
      expect(doc.errors?.join('\n') ?? doc.error, name).toContain('rollback-config.yml:2:3: rollback_policy.trigers: unknown key "trigers"');
    }
  });

  it('an unknown environment: 64 naming the known ones', async () => {
    for (const [name, args] of Object.entries(COMMANDS)) {
      if (name === 'config check') continue; // validates the whole file; takes no --env of its own
      const withEnv = args.map((a, i) => (args[i - 1] === '--env' ? 'prdo' : a));
      const r = await runBin([...withEnv, '--json'], { env: { ROLLBACK_CONFIG: config } });
      expect(r.code, `${name}: ${r.stderr}`).toBe(64);
      expect(failureOf(r, name)).toMatchObject({ code: 'UNKNOWN_ENV', error: expect.stringContaining('known environments: prod') as unknown });
    }
  });

  it('rollback: a rejected --to, a missing --reason, no confirmation without a terminal, a missing option value', async () => {
    const env = { ROLLBACK_CONFIG: config };
    const badTo = await runBin(['rollback', '--env', 'prod', '--reason', 'x', '--to', '../x', '--yes', '--json'], { env });
    expect(badTo.code).toBe(1);
    expect(failureOf(badTo, '--to ../x')).toMatchObject({ code: 'INVALID_BACKUP_NAME', error: expect.stringContaining('invalid backup name "../x"') as unknown });

    const noReason = await runBin(['rollback', '--env', 'prod', '--yes', '--json'], { env });
    expect(noReason.code).toBe(64);
    expect(failureOf(noReason, 'no --reason').error).toContain('--reason TEXT is required');

    const noYes = await runBin(['rollback', '--env', 'prod', '--reason', 'x', '--json'], { env });
    expect(noYes.code).toBe(64);
    expect(failureOf(noYes, 'no --yes').error).toContain('without confirmation');

    const noValue = await runBin(['rollback', '--env', 'prod', '--json', '--to'], { env });
    expect(noValue.code).toBe(64);
    expect(failureOf(noValue, '--to without a value').error).toContain("'--to <backup>' argument missing");

    // None of them changed what is live.
    expect(path.basename(readlinkSync(layout.current))).toBe(layout.names.at(-1));
  });

  it('a held lock: 3 for rollback and snapshot, the document names the owner', async () => {
    const state = new StateDir(new LocalExecutor(), layout.stateDir);
    const lock = await EnvLock.acquire(state, {
      env: 'prod', operationId: 'op-json', operation: 'deploy', user: 'alice', initiatedBy: 'alice@bastion', version: 'test', staleMinutes: 30,
    });
    try {
      for (const name of ['rollback', 'snapshot']) {
        const r = await runBin([...(COMMANDS[name] ?? []), '--json'], { env: { ROLLBACK_CONFIG: config } });
        expect(r.code, `${name}: ${r.stderr}`).toBe(3);
        const doc = failureOf(r, name);
        expect(doc.error).toMatch(/prod is locked by alice@bastion/);
        expect(doc.code).toBe('LOCK_HELD');
      }
    } finally {
      await lock.release();
    }
  });

  it('--json where the command has no such option (config --json, a mistyped subcommand) is still answered', async () => {
    for (const args of [['config', '--json'], ['lsit', '--env', 'prod', '--json']]) {
      const r = await runBin(args, { env: { ROLLBACK_CONFIG: config } });
      expect(r.code).toBe(64);
      expect(failureOf(r, args.join(' ')).code).toBe('USAGE');
    }
  });

  it('without --json a failure prints nothing on stdout, as before', async () => {
    const r = await runBin(['list', '--env', 'prdo'], { env: { ROLLBACK_CONFIG: config } });
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
  });
});

describe('--json when the command has a bug', () => {
  it('an unexpected exception is exit 1 with an internal-error document, and its stack on stderr', async () => {
    const stdout = new BufferWriter();
    const stderr = new BufferWriter();
    const code = await main(['node', 'rollback-tui', 'explode', '--json'], { stdout, stderr, env: {}, cwd: '/', isTTY: false }, [
      (program) => {
        program
          .command('explode')
          .option('--json', 'a document')
          .action(() => {
            throw new TypeError('cannot read properties of undefined');
          });
      },
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout.text())).toEqual({
      ok: false,
      error: 'internal error (this is a bug, please report it): cannot read properties of undefined',
      exit_code: 1,
      code: 'INTERNAL',
    });
    expect(stderr.text()).toContain('TypeError: cannot read properties of undefined');
  });
});
