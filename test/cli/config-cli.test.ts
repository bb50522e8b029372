import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { main } from '../../src/cli/main.js';
import { BufferWriter } from '../../src/cli/output.js';
import type { CliContext } from '../../src/cli/context.js';
import { configJsonSchema } from '../../src/core/config/jsonschema.js';
import { EXAMPLE, ROOT, POLICY_BLOCK, tmpDir, writeFiles } from '../config/helpers.js';

const BIN = path.join(ROOT, 'bin', 'rollback-tui.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bin with a clean environment (no ROLLBACK_* or colour variables from the caller). */
function run(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: tmpDir('rbhome-'), ...opts.env };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // test/global-setup.ts builds dist/; build here too when it was skipped and nothing is built.
  if (!existsSync(path.join(ROOT, 'dist', 'app', 'main.js'))) {
    spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT });
  }
  expect(existsSync(path.join(ROOT, 'dist', 'app', 'main.js'))).toBe(true);
});

describe('rollback-tui (built bin): help, version, usage errors', () => {
  it('--help lists the global options, the subcommands and examples; exit 0', () => {
    const r = run(['--help']);
    expect(r.code).toBe(0);
    for (const s of ['--config <file>', '--env <name>', '--theme <name>', '--no-color', '-V, --version', 'config', 'Examples:', 'Exit codes:']) expect(r.stdout).toContain(s);
    expect(r.stderr).toBe('');
  });

  it('-V and --version print the version from package.json', () => {
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(run(['-V'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(run(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('an unknown option exits 64 with the message, the usage line and a fix', () => {
    const r = run(['config', 'check', '--bogus']);
    expect(r.code).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("rollback-tui: unknown option '--bogus'");
    expect(r.stderr).toContain('usage: rollback-tui config check [options]');
    expect(r.stderr).toContain('try: rollback-tui config check --help');
  });

  it('a mistyped subcommand exits 64 and suggests the near one', () => {
    const r = run(['confg']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown command "confg" (did you mean "config"?)');
  });

  it('`config` without its subcommand shows its help on stderr and exits 64', () => {
    const r = run(['config']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('Usage: rollback-tui config');
  });

  it('without a terminal, no subcommand exits 64 naming the subcommands to use', () => {
    const r = run([]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/the console needs a terminal .*use a subcommand: .*config/);
  });

  it('every config subcommand has examples in its --help', () => {
    for (const sub of ['check', 'show', 'schema']) {
      const r = run(['config', sub, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain(`rollback-tui config ${sub}`);
    }
  });
});

describe('rollback-tui config check', () => {
  it('passes on the example (exit 0) and prints the warnings on stderr', () => {
    const r = run(['config', 'check', '--config', 'rollback-config.yml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ok .*rollback-config\.yml \(2 environments: prod, test; 2 warnings\)\n$/);
    // The warning points at the line and column of the value that uses the variable.
    const lines = readFileSync(path.join(ROOT, 'rollback-config.yml'), 'utf8').split('\n');
    const line = lines.findIndex((l) => /^\s*slack_webhook: "\$\{SLACK_WEBHOOK_URL\}"/.test(l));
    const col = (lines[line] ?? '').indexOf('"') + 1;
    expect(r.stderr).toContain(`warning: rollback-config.yml:${line + 1}:${col}: SLACK_WEBHOOK_URL is unset`);
  });

  it('--json prints {ok, file, warnings, environments} on stdout only', () => {
    const r = run(['config', 'check', '--json'], { env: { ROLLBACK_CONFIG: POLICY_BLOCK, SLACK_WEBHOOK_URL: 'https://hooks.slack.com/x', CEO_EMAIL: 'c@x' } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, file: POLICY_BLOCK, warnings: [], environments: [] });
  });

  it('an invalid file exits 78 naming file:line:col, key path, expectation and a fix', () => {
    const dir = tmpDir();
    writeFiles(dir, { 'rollback-config.yml': 'rollback_policy:\n  trigers: {}\n  monitoring: { check_interval_seconds: -1 }\n' });
    const r = run(['config', 'check'], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('rollback-tui: rollback-config.yml:2:3: rollback_policy.trigers: unknown key "trigers"; did you mean "triggers"?');
    expect(r.stderr).toContain('rollback-config.yml:3:41: rollback_policy.monitoring.check_interval_seconds: expected a number > 0, got number -1');
    expect(r.stderr).toContain('try: fix the keys named above');

    const j = run(['config', 'check', '--json'], { cwd: dir });
    expect(j.code).toBe(78);
    const doc = JSON.parse(j.stdout) as { ok: boolean; errors: string[] };
    expect(doc.ok).toBe(false);
    expect(doc.errors).toHaveLength(2);
  });

  it('broken YAML exits 78 with its line', () => {
    const dir = tmpDir();
    writeFiles(dir, { '.rollbackrc.yml': 'environments:\n  prod: [\n' });
    const r = run(['config', 'check'], { cwd: dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/\.rollbackrc\.yml:3:1: invalid YAML: /);
  });

  it('no configuration anywhere exits 78 saying where it looked and how to fix it', () => {
    const dir = tmpDir();
    const r = run(['config', 'check'], { cwd: dir, env: { XDG_CONFIG_HOME: dir } });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('no configuration found');
    expect(r.stderr).toContain('--config FILE');
  });
});

describe('rollback-tui config show / schema', () => {
  it('show --env prod prints the resolved environment as YAML with the merged policy and secrets redacted', () => {
    const r = run(['config', 'show', '--env', 'prod', '--config', EXAMPLE], { env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/very-secret' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('name: prod');
    expect(r.stdout).toContain('check_interval_seconds: 30');
    expect(r.stdout).toContain('slack_webhook: https://hooks.slack.com/<redacted>');
    expect(r.stdout).not.toContain('very-secret');
    expect(r.stdout).toContain('state_dir: /opt/app/.rollback');
  });

  it('show takes ROLLBACK_ENV, prints JSON with --json, and the whole config without an environment', () => {
    const env = { ROLLBACK_CONFIG: EXAMPLE, ROLLBACK_ENV: 'test', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/very-secret' };
    const one = run(['config', 'show', '--json'], { env });
    expect(one.code).toBe(0);
    const doc = JSON.parse(one.stdout) as { name: string; policy: { notifications: { slack_webhook: string } } };
    expect(doc.name).toBe('test');
    expect(doc.policy.notifications.slack_webhook).toBe('https://hooks.slack.com/<redacted>');

    const all = run(['config', 'show', '--json'], { env: { ROLLBACK_CONFIG: EXAMPLE } });
    expect(all.code).toBe(0);
    const whole = JSON.parse(all.stdout) as { rollback_policy: unknown; environments: Record<string, { policy: unknown }> };
    expect(Object.keys(whole.environments)).toEqual(['prod', 'test']);
    expect(whole.environments.prod?.policy).toBeDefined();
  });

  it('show with an unknown environment exits 64 listing the known ones', () => {
    const r = run(['config', 'show', '--env', 'staging', '--config', EXAMPLE]);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown environment "staging"; known environments: prod, test');
  });

  it('an unset variable in a service command: the file loads with a warning, that environment exits 78 naming the variable, the other works', () => {
    const dir = tmpDir('rbdisabled-');
    writeFiles(dir, {
      'rollback-config.yml': [
        'environments:',
        '  prod:',
        '    target: { strategy: symlink, current: /srv/app/current, backups_dir: /srv/app/backups }',
        '    service: { stop: "systemctl stop ${APP_UNIT}", start: "systemctl start app" }',
        '  staging:',
        '    target: { strategy: symlink, current: /srv/stg/current, backups_dir: /srv/stg/backups }',
        '',
      ].join('\n'),
    });
    const check = run(['config', 'check'], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('2 environments: prod (disabled), staging; 1 warning');
    expect(JSON.parse(run(['config', 'check', '--json'], { cwd: dir }).stdout)).toMatchObject({ ok: true, environments: ['prod', 'staging'], disabled: ['prod'] });
    expect(check.stderr).toContain('environments.prod.service.stop: ${APP_UNIT} is unset and has no default; export APP_UNIT or write ${APP_UNIT:-default}; environment prod is disabled until it is set');
    const prod = run(['config', 'show', '--env', 'prod'], { cwd: dir });
    expect(prod.code).toBe(78);
    expect(prod.stdout).toBe('');
    expect(prod.stderr).toContain('environment prod is disabled: rollback-config.yml:4:22: environments.prod.service.stop: ${APP_UNIT} is unset');
    expect(run(['config', 'show', '--env', 'staging'], { cwd: dir }).code).toBe(0);
    expect(run(['config', 'show', '--env', 'prod'], { cwd: dir, env: { APP_UNIT: 'app' } }).code).toBe(0);
  });

  it('schema prints the JSON Schema generated from the zod schema', () => {
    const r = run(['config', 'schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(configJsonSchema());
  });
});

describe('main() in-process: the context for other subcommands', () => {
  function capture() {
    return { stdout: new BufferWriter(), stderr: new BufferWriter() };
  }
  const probe = (seen: string[]) => (program: Command, ctx: CliContext) => {
    program
      .command('probe')
      .option('--json')
      .action(async (opts: { json?: boolean }) => {
        const { env } = await ctx.resolveEnv();
        seen.push(env.name);
        if (opts.json) ctx.json({ env: env.name, color: ctx.color.level });
        ctx.exitCode = 2;
      });
  };

  it('resolveEnv: a missing --env is a usage error (64) naming the known environments', async () => {
    const io = capture();
    const code = await main(['node', 'rb', '--config', EXAMPLE, 'probe'], { ...io, env: {}, cwd: ROOT, isTTY: false }, [probe([])]);
    expect(code).toBe(64);
    expect(io.stderr.text()).toContain('missing --env NAME: this command works on one environment (known: prod, test)');
    expect(io.stderr.text()).toContain('try: add --env prod, or export ROLLBACK_ENV=prod');
  });

  it('resolveEnv: --env after the subcommand and ROLLBACK_ENV both work; ctx.exitCode is the result', async () => {
    const seen: string[] = [];
    const io = capture();
    expect(await main(['node', 'rb', 'probe', '--env', 'prod', '--json', '--config', EXAMPLE], { ...io, env: {}, cwd: ROOT, isTTY: false }, [probe(seen)])).toBe(2);
    expect(JSON.parse(io.stdout.text())).toEqual({ env: 'prod', color: 0 });
    expect(await main(['node', 'rb', 'probe'], { ...capture(), env: { ROLLBACK_ENV: 'test', ROLLBACK_CONFIG: EXAMPLE }, cwd: ROOT, isTTY: false }, [probe(seen)])).toBe(2);
    expect(seen).toEqual(['prod', 'test']);
  });

  it('--no-color and NO_COLOR turn colour off even when forced', async () => {
    const io = capture();
    await main(['node', 'rb', '--no-color', 'probe', '--env', 'prod', '--json', '--config', EXAMPLE], { ...io, env: { FORCE_COLOR: '1' }, cwd: ROOT, isTTY: true }, [probe([])]);
    expect(JSON.parse(io.stdout.text())).toMatchObject({ color: 0 });
    const io2 = capture();
    await main(['node', 'rb', 'probe', '--env', 'prod', '--json', '--config', EXAMPLE], { ...io2, env: { NO_COLOR: '1', FORCE_COLOR: '1' }, cwd: ROOT, isTTY: true }, [probe([])]);
    expect(JSON.parse(io2.stdout.text())).toMatchObject({ color: 0 });
  });

  it('with a terminal: the console hook runs when registered, else exit 1 saying it is not in this build', async () => {
    const io = capture();
    expect(await main(['node', 'rb'], { ...io, env: {}, cwd: ROOT, isTTY: true }, [])).toBe(1);
    expect(io.stderr.text()).toContain('the console is not available in this build');
    const opened: (string | undefined)[] = [];
    const withConsole = (_p: Command, ctx: CliContext) => {
      ctx.openConsole = async (_c, opts) => {
        opened.push(opts.env);
        return 0;
      };
    };
    expect(await main(['node', 'rb', '--env', 'prod'], { ...capture(), env: {}, cwd: ROOT, isTTY: true }, [withConsole])).toBe(0);
    expect(opened).toEqual(['prod']);
  });

  it('an unexpected error is rendered as a bug with a short stack and exit 1', async () => {
    const io = capture();
    const boom = (program: Command) => {
      program.command('boom').action(() => {
        throw new TypeError('kaboom');
      });
    };
    expect(await main(['node', 'rb', 'boom'], { ...io, env: {}, cwd: ROOT, isTTY: false }, [boom])).toBe(1);
    expect(io.stderr.text()).toMatch(/internal error \(this is a bug, please report it\):\nTypeError: kaboom\n\s+at /);
  });
});
