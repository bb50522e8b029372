/**
 * Hostile input through the built bin: environment names that are Object properties, deeply nested
 * `${...}` references, names with invisible or direction-changing characters in a real backups folder,
 * and secrets after flags with unknown names in `config show`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupNameProblem, displayName } from '../../src/core/stores/names.js';
import { makeReleaseLayout, type ReleaseLayout } from '../helpers/releases.js';
import { runBin, symlinkEnvironment, writeConfigFile } from './bin.js';

describe('environment names that are Object properties', () => {
  let layout: ReleaseLayout;
  let config: string;
  beforeAll(() => {
    layout = makeReleaseLayout({ count: 2 });
    // `constructor` is a valid environment name: it must be found as itself, not on Object.prototype.
    config = writeConfigFile(`environments:\n${symlinkEnvironment('prod', layout)}${symlinkEnvironment('constructor', layout)}`);
  });
  afterAll(() => layout.cleanup());

  for (const name of ['__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`--env ${name} is an unknown environment: exit 64 listing the known ones`, async () => {
      for (const args of [['list', '--env', name], ['config', 'show', '--env', name], ['history', '--env', name]]) {
        const r = await runBin(args, { env: { ROLLBACK_CONFIG: config } });
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(64);
        expect(r.stderr).toContain(`unknown environment "${name}"`);
        expect(r.stderr).toContain('known environments: constructor, prod');
        expect(r.stderr).not.toContain('[object Object]');
        expect(r.stderr).not.toContain('native code');
      }
    });
  }

  it('--env * is unknown too when an unset variable takes every environment out of service', async () => {
    const file = writeConfigFile(`rollback_policy:\n  rollback: { grace_seconds: "\${UNSET_GRACE}" }\nenvironments:\n${symlinkEnvironment('prod', layout)}`);
    const r = await runBin(['list', '--env', '*'], { env: { ROLLBACK_CONFIG: file } });
    expect(r.code, r.stderr).toBe(64);
    expect(r.stderr).toContain('unknown environment "*"; known environments: prod');
    const prod = await runBin(['list', '--env', 'prod'], { env: { ROLLBACK_CONFIG: file } });
    expect(prod.code).toBe(78);
    expect(prod.stderr).toContain('environment prod is disabled');
  });

  it('an environment named constructor works like any other', async () => {
    const r = await runBin(['list', '--env', 'constructor', '--json'], { env: { ROLLBACK_CONFIG: config } });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((b) => b.name)).toEqual([...layout.names].reverse());
  });

  it('an environment written as __proto__: in the file is an invalid name (78), not silently dropped', async () => {
    const file = writeConfigFile(`environments:\n${symlinkEnvironment('__proto__', layout)}`);
    const r = await runBin(['config', 'check'], { env: { ROLLBACK_CONFIG: file } });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/rollback-config\.yml:2:3: environments\.__proto__: invalid name "__proto__"/);
  });
});

describe('${...} nesting is bounded', () => {
  const withStart = (value: string): string =>
    `environments:\n  prod:\n    target: { strategy: symlink, backups_dir: /tmp/b, current: /tmp/c }\n    service:\n      start: "${value}"\n`;
  const nested = (levels: number): string => `${'${A:-'.repeat(levels)}echo ok${'}'.repeat(levels)}`;

  it('20,000 nested levels: a configuration error naming file, line and key (78), not a crash', async () => {
    const file = writeConfigFile(withStart(nested(20_000)));
    const r = await runBin(['config', 'check'], { env: { ROLLBACK_CONFIG: file } });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('rollback-config.yml:5:14: environments.prod.service.start:');
    expect(r.stderr).toContain('nested more than 10 levels deep');
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toContain('call stack');
    // The message quotes the start of the value, not all 100 kB of it.
    expect(r.stderr.length).toBeLessThan(2000);
  });

  it('10 levels still load and resolve to the innermost default', async () => {
    const file = writeConfigFile(withStart(nested(10)));
    const r = await runBin(['config', 'show', '--env', 'prod', '--json'], { env: { ROLLBACK_CONFIG: file } });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { service: { start: string } }).service.start).toBe('echo ok');
    const eleven = await runBin(['config', 'check'], { env: { ROLLBACK_CONFIG: writeConfigFile(withStart(nested(11))) } });
    expect(eleven.code).toBe(78);
  });
});

/** C1 controls, bidi embeddings/overrides/isolates, and other characters that print as nothing. */
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
  0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x2060, 0xfeff, 0x00ad, 0x061c, 0x3164, 0xe0041,
].map((cp) => String.fromCodePoint(cp));

describe('names with invisible or direction-changing characters', () => {
  it('every one of them makes a name unusable, and displayName shows it escaped', () => {
    for (const ch of UNSAFE) {
      const name = `backup_20241112_1${ch}00000`;
      expect(backupNameProblem(name), `U+${ch.codePointAt(0)?.toString(16)}`).toMatch(/character \(U\+[0-9A-F]{4,5}\)/);
      const shown = displayName(name);
      expect(shown.startsWith('"') && shown.endsWith('"')).toBe(true);
      expect(shown).not.toContain(ch);
    }
    expect(backupNameProblem('backup_20241112_100000')).toBeNull();
    expect(backupNameProblem('release-ü-2024')).toBeNull();
  });

  let layout: ReleaseLayout;
  let config: string;
  const rlo = 'backup_20241112_130000\u202egpj.exe';
  const c1 = 'backup_20241112_120000\u0085';
  const isolate = 'backup_20241112_140000\u2066x\u2069';
  beforeAll(() => {
    layout = makeReleaseLayout({ names: ['backup_20241112_100000', 'backup_20241112_110000', c1, rlo, isolate], live: 1 });
    config = writeConfigFile(`environments:\n${symlinkEnvironment('prod', layout)}`);
  });
  afterAll(() => layout.cleanup());

  it('list prints them escaped and unusable; the JSON keeps the exact name for scripts', async () => {
    const r = await runBin(['list', '--env', 'prod'], { env: { ROLLBACK_CONFIG: config } });
    expect(r.code, r.stderr).toBe(0);
    for (const ch of ['\u202e', '\u0085', '\u2066', '\u2069']) expect(r.stdout).not.toContain(ch);
    expect(r.stdout).toContain('"backup_20241112_130000\\u202egpj.exe"');
    expect(r.stdout).toContain('"backup_20241112_120000\\u0085"');
    expect(r.stdout).toContain('"backup_20241112_140000\\u2066x\\u2069"');
    expect(r.stdout).toMatch(/unusable: unsafe name: it contains a control character \(U\+0085\)/);
    expect(r.stdout).toMatch(/unusable: unsafe name: it contains an invisible or direction-changing character \(U\+202E\)/);

    const json = await runBin(['list', '--env', 'prod', '--json'], { env: { ROLLBACK_CONFIG: config } });
    const entries = JSON.parse(json.stdout) as { name: string; unusable?: string }[];
    for (const name of [c1, rlo, isolate]) expect(entries.find((e) => e.name === name)?.unusable).toMatch(/^unsafe name/);
  });

  it('such a name is refused as a --to target, and the message shows it escaped', async () => {
    const r = await runBin(['rollback', '--env', 'prod', '--to', rlo, '--dry-run'], { env: { ROLLBACK_CONFIG: config } });
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).not.toContain('\u202e');
    expect(r.stderr + r.stdout).toContain('\\u202e');
  });
});

describe('a live release whose name has a bidi override', () => {
  let layout: ReleaseLayout;
  const live = 'backup_\u202e20241112_120000';
  beforeAll(() => {
    layout = makeReleaseLayout({ names: ['backup_20241112_100000', 'backup_20241112_110000', live], live: 2 });
  });
  afterAll(() => layout.cleanup());

  it('rolling back away from it prints the name escaped in the progress, the summary and history', async () => {
    const env = { ROLLBACK_CONFIG: writeConfigFile(`environments:\n${symlinkEnvironment('prod', layout)}`) };
    const r = await runBin(['rollback', '--env', 'prod', '--reason', 'disguised release', '--yes'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toContain('\u202e');
    expect(r.stderr).toContain('rolled back prod from "backup_\\u202e20241112_120000" to backup_20241112_110000');
    const h = await runBin(['history', '--env', 'prod'], { env });
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).not.toContain('\u202e');
    expect(h.stdout).toContain('"backup_\\u202e20241112_120000" -> backup_20241112_110000');
  });
});

describe('config show redacts the value after any flag named like a secret', () => {
  it('--routing-key VALUE, --auth=VALUE and friends, in every command string; other flags stay', async () => {
    const command =
      'pd-send --routing-key R0UT1NG --auth=AUTHV --client-credentials "CRED V" --db-password=PW1 --x-api-token TOK1 --port 8080 --env prod';
    const file = writeConfigFile(
      [
        'rollback_policy:',
        `  notifications: { command: '${command}' }`,
        'environments:',
        '  prod:',
        '    target: { strategy: symlink, backups_dir: /tmp/b, current: /tmp/c }',
        `    service: { start: 'svc --Session-Key SK1 -H "X-Routing-Key: HK1" start', stop: 'svc stop --keep 5' }`,
        `    health: [ { command: 'check --oauth-secret=OS1 --retries 3' } ]`,
        '',
      ].join('\n'),
    );
    for (const args of [['config', 'show'], ['config', 'show', '--json'], ['config', 'show', '--env', 'prod']]) {
      const r = await runBin(args, { env: { ROLLBACK_CONFIG: file } });
      expect(r.code, r.stderr).toBe(0);
      for (const secret of ['R0UT1NG', 'AUTHV', 'CRED V', 'PW1', 'TOK1', 'SK1', 'HK1', 'OS1']) expect(r.stdout, args.join(' ')).not.toContain(secret);
      expect(r.stdout).toContain('--routing-key ***');
      expect(r.stdout).toContain('--auth=***');
      if (args.includes('--env')) expect(r.stdout).toContain('svc --Session-Key *** -H "X-Routing-Key: ***" start');
      else expect(r.stdout).toContain('--port 8080 --env prod');
      expect(r.stdout).toContain('--keep 5');
    }
  });
});
