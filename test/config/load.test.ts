import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ExitCode, UserError } from '../../src/core/errors.js';
import { isOptionalWhenUnset } from '../../src/core/config/interpolate.js';
import { loadConfig, parseConfigText, resolveEnvironment, ConfigProblemsError } from '../../src/core/config/load.js';
import { EXAMPLE, MIN_ENV, POLICY_BLOCK, problemsOf, tmpDir, writeFiles } from './helpers.js';

describe('the auto-rollback policy block and the example', () => {
  it('loads the auto-rollback policy block unchanged, keeping its key names and values', async () => {
    const loaded = await loadConfig({ configPath: POLICY_BLOCK, env: { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x', CEO_EMAIL: 'ceo@example.com' } });
    const p = loaded.config.rollback_policy;
    expect(p.enabled).toBe(true);
    expect(p.monitoring).toMatchObject({ check_interval_seconds: 60, baseline_window_minutes: 5 });
    expect(p.triggers.error_rate).toMatchObject({ enabled: true, multiplier: 2, window_minutes: 5 });
    expect(p.triggers.latency).toMatchObject({ enabled: true, metric: 'p95', multiplier: 1.5, window_minutes: 5 });
    expect(p.triggers.memory).toMatchObject({ enabled: true, threshold_percent: 90, window_minutes: 10 });
    expect(p.triggers.health_check).toMatchObject({ enabled: true, failure_count: 3, window_minutes: 5 });
    expect(p.rollback).toMatchObject({ max_rollback_attempts: 3, health_check_timeout_seconds: 120 });
    expect(p.notifications).toMatchObject({ ceo_alert: true, slack_webhook: 'https://hooks.slack.com/services/T/B/x', email: 'ceo@example.com' });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.environments).toEqual({});
  });

  it('the policy block without its variables set loads with warnings and the channels disabled', async () => {
    const loaded = await loadConfig({ configPath: POLICY_BLOCK, env: {} });
    expect(loaded.config.rollback_policy.notifications.slack_webhook).toBeUndefined();
    expect(loaded.config.rollback_policy.notifications.email).toBeUndefined();
    expect(loaded.warnings).toHaveLength(2);
    expect(loaded.warnings[0]).toMatch(/auto-rollback-policy\.yml:38:20: SLACK_WEBHOOK_URL is unset: rollback_policy\.notifications\.slack_webhook disabled/);
    expect(loaded.warnings[1]).toMatch(/CEO_EMAIL is unset: rollback_policy\.notifications\.email disabled/);
    expect(JSON.stringify(loaded.config)).not.toContain('${');
  });

  it('the example rollback-config.yml loads, with a test and a prod environment that resolve', async () => {
    const loaded = await loadConfig({ configPath: EXAMPLE, env: {} });
    expect(Object.keys(loaded.config.environments).sort()).toEqual(['prod', 'test']);
    const prod = resolveEnvironment(loaded, 'prod');
    expect(prod.confirm).toBe('type-name');
    expect(prod.executor).toMatchObject({ type: 'ssh', host: 'app-1', user: 'deploy', port: 22 });
    expect(prod.policy.monitoring.check_interval_seconds).toBe(30);
    expect(prod.policy.triggers.error_rate?.multiplier).toBe(1.5);
    expect(prod.policy.triggers.error_rate?.window_minutes).toBe(5); // inherited
    expect(prod.state_dir).toBe('/opt/app/.rollback');
    const test = resolveEnvironment(loaded, 'test');
    expect(test.executor.type).toBe('local');
    expect(test.target).toMatchObject({ backups_dir: path.join(path.dirname(EXAMPLE), '.rollback-test/backups') });
    expect(test.health[0]).toMatchObject({ http: { url: 'http://127.0.0.1:8080/health' } });
    expect(test.policy).toEqual(loaded.config.rollback_policy);
  });
});

describe('error classes', () => {
  it('broken YAML names file:line:col', () => {
    const lines = problemsOf('rollback_policy:\n  enabled: true\n  monitoring: [1, 2\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^test\.yml:\d+:\d+: invalid YAML: /);
    expect(problemsOf('a: 1\na: 2\n')[0]).toMatch(/test\.yml:2:1: invalid YAML: Map keys must be unique/);
  });

  it('a wrong type names line:col, the key path and what was expected', () => {
    const lines = problemsOf('rollback_policy:\n  monitoring:\n    check_interval_seconds: soon\n');
    expect(lines).toEqual(['test.yml:3:29: rollback_policy.monitoring.check_interval_seconds: expected a number, got the string "soon"']);
  });

  it('an out-of-range value and a bad enum value name what is allowed', () => {
    const lines = problemsOf('rollback_policy:\n  triggers:\n    memory: { threshold_percent: 120 }\n    latency: { metric: p96 }\n');
    expect(lines[0]).toBe('test.yml:3:34: rollback_policy.triggers.memory.threshold_percent: expected a number <= 100, got number 120');
    expect(lines[1]).toBe('test.yml:4:24: rollback_policy.triggers.latency.metric: expected one of "p50" | "p95" | "p99", got the string "p96"; did you mean "p95"?');
  });

  it('an unknown key suggests the nearest known one', () => {
    const lines = problemsOf('rollback_policy:\n  trigers:\n    error_rate: {}\n');
    expect(lines).toEqual(['test.yml:2:3: rollback_policy.trigers: unknown key "trigers"; did you mean "triggers"?']);
    const far = problemsOf('rollback_policy:\n  zzzzzzzz: 1\n');
    expect(far[0]).toMatch(/unknown key "zzzzzzzz"; expected one of: enabled, monitoring, triggers, rollback, notifications/);
  });

  it('reports every problem, one line each, sorted by position', () => {
    const lines = problemsOf(`${MIN_ENV}    confirm: type_name\n    health:\n      - htp: { url: "http://x" }\n      - http: { url: 5 }\nrollback_policy:\n  enabld: true\n`);
    expect(lines).toEqual([
      'test.yml:7:14: environments.test.confirm: expected one of "type-name" | "yes-no", got the string "type_name"; did you mean "type-name"?',
      'test.yml:9:9: environments.test.health[0].htp: unknown key "htp"; did you mean "http"?',
      'test.yml:10:22: environments.test.health[1].http.url: expected a string, got number 5',
      'test.yml:12:3: rollback_policy.enabld: unknown key "enabld"; did you mean "enabled"?',
    ]);
  });

  it('a health check must have exactly one kind: none, or two, say so and list http, tcp, command', () => {
    expect(problemsOf(`${MIN_ENV}    health: [{}]\n`)).toEqual([
      'test.yml:7:14: environments.test.health[0]: expected exactly one of http, tcp, command, got an empty mapping',
    ]);
    expect(problemsOf(`${MIN_ENV}    health:\n      - http: { url: "http://x/health" }\n        tcp: { host: x, port: 80 }\n`)).toEqual([
      'test.yml:8:9: environments.test.health[0]: this item has 2 kinds (http, tcp) but must have exactly one of http, tcp, command: split it into one list item per kind',
    ]);
    // One kind with a mistake in it: the mistake, not the kinds.
    expect(problemsOf(`${MIN_ENV}    health:\n      - command: { run: x, timout_seconds: 5 }\n`)).toEqual([
      'test.yml:8:28: environments.test.health[0].command.timout_seconds: unknown key "timout_seconds"; did you mean "timeout_seconds"?',
    ]);
    expect(problemsOf(`${MIN_ENV}    health:\n      - http: { url: "http://x/health" }\n        tpc: 1\n`)).toEqual([
      'test.yml:9:9: environments.test.health[0].tpc: unknown key "tpc"; did you mean "tcp"?',
    ]);
  });

  it('a missing required key and a wrong discriminator point at the parent and list the choices', () => {
    const lines = problemsOf('environments:\n  prod:\n    executor: { type: ssh }\n    target: { strategy: symlnk, backups_dir: /b }\n');
    expect(lines).toEqual([
      'test.yml:3:5: environments.prod.executor.host: required key is missing (expected a string)',
      'test.yml:4:25: environments.prod.target.strategy: expected one of "symlink" | "git" | "files" | "container", got the string "symlnk"; did you mean "symlink"?',
    ]);
  });

  it('per-environment policy overrides are validated with their own path and position', () => {
    const lines = problemsOf(`${MIN_ENV}    policy:\n      trigers: {}\n      rollback: { grace_seconds: -1 }\n`);
    expect(lines).toEqual([
      'test.yml:8:7: environments.test.policy.trigers: unknown key "trigers"; did you mean "triggers"?',
      'test.yml:9:34: environments.test.policy.rollback.grace_seconds: expected a number >= 0, got number -1',
    ]);
  });

  it('a top level that is not a mapping is an error; an empty file gives defaults and a warning', () => {
    expect(problemsOf('- a\n- b\n')[0]).toMatch(/test\.yml:1:1: \(top level\): expected a mapping/);
    const empty = parseConfigText('# nothing yet\n', { filepath: '/cfg/e.yml', cwd: '/cfg', env: {} });
    expect(empty.config.environments).toEqual({});
    expect(empty.config.rollback_policy.enabled).toBe(true);
    expect(empty.warnings[0]).toMatch(/empty/);
  });

  it('the error carries exit code 78, the problem lines and a hint', () => {
    try {
      parseConfigText('rollback_policy: { enabled: maybe }\n', { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigProblemsError);
      const e = err as ConfigProblemsError;
      expect(e.exitCode).toBe(ExitCode.CONFIG);
      expect(e.problems).toEqual(['test.yml:1:29: rollback_policy.enabled: expected true or false, got the string "maybe"']);
      expect(e.hint).toMatch(/config schema/);
    }
  });
});

describe('interpolation in the loader', () => {
  it('replaces variables and defaults; an unquoted whole value takes its number type', () => {
    const loaded = parseConfigText(
      `${MIN_ENV}    executor:\n      type: ssh\n      host: "\${HOST:-app-1}"\n      port: \${SSH_PORT:-22}\nrollback_policy:\n  notifications: { slack_webhook: "\${HOOK}", email: "ops+\${TEAM:-core}@example.com" }\n`,
      { filepath: '/cfg/test.yml', env: { HOOK: 'https://hooks.slack.com/services/A/B/C', SSH_PORT: '2222' } },
    );
    const env = loaded.config.environments.test;
    expect(env?.executor).toMatchObject({ host: 'app-1', port: 2222 });
    expect(loaded.config.rollback_policy.notifications.slack_webhook).toBe('https://hooks.slack.com/services/A/B/C');
    expect(loaded.config.rollback_policy.notifications.email).toBe('ops+core@example.com');
    expect(loaded.warnings).toEqual([]);
  });

  it('an unset variable disables the key with a warning naming variable, key path and feature', () => {
    const loaded = parseConfigText('rollback_policy:\n  notifications:\n    slack_webhook: "${SLACK_WEBHOOK_URL}"\n', { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });
    expect(loaded.config.rollback_policy.notifications.slack_webhook).toBeUndefined();
    expect(loaded.warnings).toEqual([
      'test.yml:3:20: SLACK_WEBHOOK_URL is unset: rollback_policy.notifications.slack_webhook disabled (Slack notifications are off); set SLACK_WEBHOOK_URL or write ${SLACK_WEBHOOK_URL:-value} to enable it',
    ]);
  });

  it('an empty variable counts as unset; an explicit empty default removes the key silently', () => {
    const loaded = parseConfigText('rollback_policy:\n  notifications: { slack_webhook: "${A}", command: "${B:-}" }\n', { filepath: '/cfg/t.yml', env: { A: '' } });
    expect(loaded.config.rollback_policy.notifications).not.toHaveProperty('slack_webhook');
    expect(loaded.config.rollback_policy.notifications).not.toHaveProperty('command');
    expect(loaded.warnings).toHaveLength(1);
    expect(loaded.warnings[0]).toMatch(/A is unset/);
  });

  /** Load (it never fails for an unset variable) and try to resolve environment `test`. */
  function disabledBy(text: string, env: Record<string, string> = {}): { warnings: string[]; error: ConfigError } {
    const loaded = parseConfigText(text, { filepath: '/cfg/test.yml', cwd: '/cfg', env });
    let error: unknown;
    try {
      resolveEnvironment(loaded, 'test');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    return { warnings: loaded.warnings, error: error as ConfigError };
  }

  it('an unset variable outside the notification channels disables its environment: a warning at load, exit 78 on use, naming file:line:col, key, variable and fix', () => {
    const { warnings, error } = disabledBy(`${MIN_ENV}    executor: { type: ssh, host: app-1, user: "\${DEPLOY_USER}" }\n`);
    expect(warnings).toEqual([
      'test.yml:7:47: environments.test.executor.user: ${DEPLOY_USER} is unset and has no default; export DEPLOY_USER or write ${DEPLOY_USER:-default}; environment test is disabled until it is set',
    ]);
    expect(error.exitCode).toBe(ExitCode.CONFIG);
    expect(error.message).toBe(
      'environment test is disabled: test.yml:7:47: environments.test.executor.user: ${DEPLOY_USER} is unset and has no default; export DEPLOY_USER or write ${DEPLOY_USER:-default}',
    );
  });

  it.each([
    ['a service command', `${MIN_ENV}    service: { stop: "systemctl stop \${APP}", start: "true" }\n`, 'environments.test.service.stop'],
    ['a health command', `${MIN_ENV}    health:\n      - command: "check --token \${TOKEN}"\n`, 'environments.test.health[0].command'],
    ['a health URL', `${MIN_ENV}    health: [ { http: { url: "http://\${HOST}/health" } } ]\n`, 'environments.test.health[0].http.url'],
    ['the metrics URL', `${MIN_ENV}    metrics: { source: prometheus, url: "\${PROMETHEUS_URL}" }\n`, 'environments.test.metrics.url'],
    ['an environment policy override', `${MIN_ENV}    policy: { monitoring: { check_interval_seconds: "\${EVERY}" } }\n`, 'environments.test.policy.monitoring.check_interval_seconds'],
    ['a policy value (every environment)', `rollback_policy:\n  rollback: { grace_seconds: "\${GRACE}" }\n${MIN_ENV}`, 'rollback_policy.rollback.grace_seconds'],
  ])('an unset variable in %s disables the environment, never a key silently left out', (_what, text, keyPath) => {
    const { warnings, error } = disabledBy(text);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^test\.yml:\d+:\d+: /);
    expect(warnings[0]).toContain(`: ${keyPath}: \${`);
    expect(warnings[0]).toMatch(/is disabled until it is set$/);
    expect(error.message).toMatch(/\} is unset and has no default; export (\w+) or write \$\{\1:-default\}$/);
  });

  it('a disabled environment leaves the others usable', () => {
    const text = `${MIN_ENV}    service: { stop: "\${STOP}" }\n  other:\n    target: { strategy: symlink, current: /o/current, backups_dir: /o/backups }\n`;
    const loaded = parseConfigText(text, { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });
    expect(() => resolveEnvironment(loaded, 'test')).toThrow(/environment test is disabled/);
    expect(resolveEnvironment(loaded, 'other').name).toBe('other');
  });

  it('an unset variable in a required key disables the environment too (the literal is never used)', () => {
    const loaded = parseConfigText('environments:\n  prod:\n    target: { strategy: symlink, current: /c, backups_dir: "${BACKUPS_DIR}" }\n', { filepath: '/cfg/test.yml', cwd: '/cfg', env: {} });
    expect(() => resolveEnvironment(loaded, 'prod')).toThrow('environment prod is disabled: test.yml:3:60: environments.prod.target.backups_dir: ${BACKUPS_DIR} is unset');
  });

  it('an unset variable in a key that must be a number disables the environment; a real mistake next to it is still an error', () => {
    const text = `${MIN_ENV}    executor: { type: ssh, host: h, port: "\${SSH_PORT}" }\n`;
    expect(disabledBy(text).error.message).toContain('environments.test.executor.port: ${SSH_PORT} is unset');
    expect(problemsOf(`${text}    confirm: type_name\n`)).toEqual([
      'test.yml:7:43: environments.test.executor.port: expected a number, got the string "${SSH_PORT}" (${SSH_PORT} is unset and has no default; export SSH_PORT or write ${SSH_PORT:-default})',
      'test.yml:8:14: environments.test.confirm: expected one of "type-name" | "yes-no", got the string "type_name"; did you mean "type-name"?',
    ]);
  });

  it('several unset variables in one value are named together', () => {
    expect(disabledBy(`${MIN_ENV}    service: { start: "\${A} \${B}" }\n`).error.message).toContain(
      'test.yml:7:23: environments.test.service.start: ${A}, ${B} are unset and have no default; export A and B or write ${A:-default}',
    );
  });

  it('an environment policy override can switch off its own notification channels, with a warning', () => {
    const loaded = parseConfigText(`${MIN_ENV}    policy:\n      notifications: { command: "\${PAGER_CMD}", slack_webhook: "\${HOOK}" }\n`, {
      filepath: '/cfg/test.yml',
      cwd: '/cfg',
      env: { HOOK: 'https://hooks.slack.com/services/A/B/C' },
    });
    expect(loaded.warnings).toEqual([
      'test.yml:8:33: PAGER_CMD is unset: environments.test.policy.notifications.command disabled (the notification command is not run); set PAGER_CMD or write ${PAGER_CMD:-value} to enable it',
    ]);
    const env = resolveEnvironment(loaded, 'test');
    expect(env.policy.notifications.command).toBeUndefined();
    expect(env.policy.notifications.slack_webhook).toBe('https://hooks.slack.com/services/A/B/C');
  });

  it('only the notification keys are switched off alone by an unset variable', () => {
    expect(isOptionalWhenUnset(['rollback_policy', 'notifications', 'slack_webhook'])).toBe(true);
    expect(isOptionalWhenUnset(['rollback_policy', 'notifications', 'ceo_alert'])).toBe(true);
    expect(isOptionalWhenUnset(['environments', 'prod', 'policy', 'notifications', 'email'])).toBe(true);
    expect(isOptionalWhenUnset(['rollback_policy', 'rollback', 'grace_seconds'])).toBe(false);
    expect(isOptionalWhenUnset(['environments', 'prod', 'notifications', 'email'])).toBe(false);
    expect(isOptionalWhenUnset(['environments', 'prod', 'metrics', 'url'])).toBe(false);
    expect(isOptionalWhenUnset(['environments', 'prod', 'service', 'command'])).toBe(false);
  });

  it('an empty default on a required key: the validation error says the value came out empty', () => {
    expect(problemsOf('environments:\n  prod:\n    target: { strategy: symlink, current: /c, backups_dir: "${BACKUPS_DIR:-}" }\n')).toEqual([
      'test.yml:3:60: environments.prod.target.backups_dir: required key is missing (expected a string) (its value came out empty from an empty default, so environments.prod.target.backups_dir was removed)',
    ]);
  });

  it('a malformed reference is an error, never a literal ${...}', () => {
    expect(problemsOf('theme: "${THEME"\n')).toEqual([
      'test.yml:1:8: theme: malformed variable reference in "${THEME": "${THEME" is not closed with "}" (write ${NAME} or ${NAME:-default}; $${ gives a literal ${)',
    ]);
    expect(problemsOf('theme: "${1X}"\n')[0]).toMatch(/must be followed by a variable name/);
  });

  it('$${ is a literal ${ (shell commands keep their own variables)', () => {
    const loaded = parseConfigText(`${MIN_ENV}    service: { stop: "kill $\${PID}" }\n`, { filepath: '/cfg/t.yml', env: { PID: '1' } });
    expect(loaded.config.environments.test?.service.stop).toBe('kill ${PID}');
  });
});

describe('finding the file', () => {
  const body = `${MIN_ENV}`;

  it('--config wins over ROLLBACK_CONFIG, which wins over the search', async () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'a.yml': 'theme: from-flag\n',
      'b.yml': 'theme: from-env\n',
      'rollback-config.yml': 'theme: from-search\n',
    });
    expect((await loadConfig({ configPath: 'a.yml', cwd: dir, env: { ROLLBACK_CONFIG: 'b.yml' } })).config.theme).toBe('from-flag');
    expect((await loadConfig({ cwd: dir, env: { ROLLBACK_CONFIG: 'b.yml' } })).config.theme).toBe('from-env');
    expect((await loadConfig({ cwd: dir, env: {} })).config.theme).toBe('from-search');
  });

  it('searches from the working directory upward, in the documented order', async () => {
    const dir = tmpDir();
    writeFiles(dir, { '.rollbackrc.json': JSON.stringify({ theme: 'json' }), '.rollbackrc.yaml': 'theme: yaml\n', 'deep/er/x.txt': '' });
    const loaded = await loadConfig({ cwd: path.join(dir, 'deep', 'er'), env: {} });
    expect(loaded.filepath).toBe(path.join(dir, '.rollbackrc.yaml'));
    expect(loaded.config.theme).toBe('yaml');
  });

  it('reads package.json#rollback and skips a package.json without it', async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'package.json': JSON.stringify({ name: 'x', rollback: { theme: 'pkg', rollback_policy: { enabled: false } } }, null, 2) });
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.config.theme).toBe('pkg');
    expect(loaded.config.rollback_policy.enabled).toBe(false);

    const bad = tmpDir();
    writeFiles(bad, { 'package.json': JSON.stringify({ name: 'x', rollback: { theme: 5 } }, null, 2) });
    await expect(loadConfig({ cwd: bad, env: {} })).rejects.toThrow(/package\.json:4:14: theme: expected a string, got number 5/);
  });

  it('falls back to $XDG_CONFIG_HOME/rollback-tui/config.yml, then fails with 78 saying where it looked', async () => {
    const dir = tmpDir();
    const xdg = tmpDir('rbxdg-');
    writeFiles(xdg, { 'rollback-tui/config.yml': body });
    const loaded = await loadConfig({ cwd: dir, env: { XDG_CONFIG_HOME: xdg } });
    expect(loaded.filepath).toBe(path.join(xdg, 'rollback-tui', 'config.yml'));

    const empty = tmpDir('rbxdg-');
    const err = await loadConfig({ cwd: dir, env: { XDG_CONFIG_HOME: empty } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(78);
    expect((err as ConfigError).message).toContain(path.join(empty, 'rollback-tui', 'config.yml'));
    expect((err as ConfigError).message).toContain(dir);
    expect((err as ConfigError).hint).toMatch(/--config FILE/);
  });

  it('a --config file that does not exist is a ConfigError naming it', async () => {
    await expect(loadConfig({ configPath: '/nonexistent/x.yml', env: {} })).rejects.toThrow(/\/nonexistent\/x\.yml \(from --config\) does not exist/);
  });
});

describe('resolveEnvironment', () => {
  const text = `rollback_policy:
  triggers:
    error_rate: { multiplier: 2, window_minutes: 5 }
    log_errors: { patterns: [FATAL, panic], threshold: 2 }
environments:
  prod:
    policy:
      triggers:
        error_rate: { multiplier: 3 }
        log_errors: { patterns: [OOM] }
    target: { strategy: symlink, backups_dir: backups, current: current }
  site:
    executor: { type: ssh, host: web-1 }
    target: { strategy: git, repo: /srv/site }
  etc:
    state_dir: /var/lib/rb
    target: { strategy: files, backups_dir: /etc/app/b, files: [a.conf] }
`;
  const loaded = parseConfigText(text, { filepath: '/cfg/rollback-config.yml', env: {} });

  it('merges the policy deeply; lists are replaced, not concatenated', () => {
    const prod = resolveEnvironment(loaded, 'prod');
    expect(prod.policy.triggers.error_rate).toMatchObject({ multiplier: 3, window_minutes: 5 });
    expect(prod.policy.triggers.log_errors).toMatchObject({ patterns: ['OOM'], threshold: 2 });
    expect(loaded.config.rollback_policy.triggers.log_errors?.patterns).toEqual(['FATAL', 'panic']);
  });

  it('state_dir defaults: <backups_dir>/.rollback, git <repo>/.rollback; local paths are relative to the file', () => {
    expect(resolveEnvironment(loaded, 'prod')).toMatchObject({ state_dir: '/cfg/backups/.rollback', target: { backups_dir: '/cfg/backups', current: '/cfg/current' } });
    expect(resolveEnvironment(loaded, 'site').state_dir).toBe('/srv/site/.rollback');
    expect(resolveEnvironment(loaded, 'etc')).toMatchObject({ state_dir: '/var/lib/rb', target: { files: ['/cfg/a.conf'] } });
  });

  it('an unknown environment is a usage error (64) listing the known ones', () => {
    try {
      resolveEnvironment(loaded, 'prd');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(64);
      expect((err as UserError).message).toBe('unknown environment "prd" (did you mean "prod"?); known environments: etc, prod, site');
    }
  });

  it('an invalid merged policy on a config built in code names environments.NAME.policy.<key>', () => {
    const copy = structuredClone({ ...loaded, locate: undefined });
    const prod = copy.config.environments.prod;
    if (prod) prod.policy = { rollback: { stability_seconds: 'x' } };
    expect(() => resolveEnvironment(copy, 'prod')).toThrow(/environments\.prod\.policy\.rollback\.stability_seconds: expected a number, got the string "x"/);
  });

  it('the example file text is the file on disk (sanity for the CLI tests)', () => {
    expect(readFileSync(EXAMPLE, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./rollback-config.schema.json');
  });
});
