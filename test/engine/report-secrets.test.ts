/**
 * Secrets never reach an incident report: secret keys of YAML, INI, .env and JSON lines and PEM private
 * keys are redacted by the one `redactSecrets`, and a real rollback whose log source prints a config
 * file (the service dumping its settings) writes a report without them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync } from 'node:fs';
import { redactSecrets } from '../../src/core/config/redact.js';
import { makeFixture, type Fixture } from './fixture.js';

const CONFIG_LINES = [
  'db_password: hunter2-yaml',
  '  API_TOKEN: "tok-yaml-quoted"',
  '- client_secret: sec-yaml-item',
  'Private_Key = ini-private',
  'access_key=ini-access',
  'export AWS_SECRET_ACCESS_KEY=env-secret',
  'credentials: cred-yaml',
  'passwd = ini-passwd',
  'apikey: yaml-apikey',
  '+db_password: diff-added',
  '-db_password: diff-removed',
  '  "api_key": "json-key",',
  'tls_key: |',
  '  -----BEGIN RSA PRIVATE KEY-----',
  '  MIIEpAIBAAKCAQEA-pem-body-line',
  '  -----END RSA PRIVATE KEY-----',
];
const SECRETS = [
  'hunter2-yaml', 'tok-yaml-quoted', 'sec-yaml-item', 'ini-private', 'ini-access', 'env-secret', 'cred-yaml', 'ini-passwd',
  'yaml-apikey', 'diff-added', 'diff-removed', 'json-key', 'pem-body-line',
];

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

describe('secrets in config-file lines', () => {
  it('redactSecrets masks secret keys of YAML, INI, .env, JSON and diff lines and PEM private keys; keeps the rest', () => {
    const text = ['host: db.internal', 'port = 5432', ...CONFIG_LINES, 'LOG_LEVEL=debug'].join('\n');
    const out = redactSecrets(text);
    for (const s of SECRETS) expect(out).not.toContain(s);
    const kept = ['host: db.internal', 'port = 5432', 'LOG_LEVEL=debug', 'db_password: ***', 'export AWS_SECRET_ACCESS_KEY=***', '"api_key": "***"'];
    for (const line of kept) expect(out).toContain(line);
  });

  it('a rollback whose log tail holds config lines writes an incident report without the secrets', async () => {
    fx = await makeFixture();
    appendFileSync(fx.logFile, `${CONFIG_LINES.join('\n')}\n`);
    const r = await fx.cli(['rollback', '--env', 'test', '--reason', 'x', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = readFileSync(String(fx.history()[0]!.incident_report), 'utf8');
    expect(report).toContain('## Last log lines');
    expect(report).toContain('db_password: ***');
    for (const s of SECRETS) expect(report).not.toContain(s);
  });
});
