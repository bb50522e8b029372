import { describe, expect, it } from 'vitest';
import { deepMerge } from '../../src/core/config/merge.js';
import { redactConfig, redactSecrets, redactSecretValue, REDACTED } from '../../src/core/config/redact.js';
import { redactSecrets as engineRedactSecrets } from '../../src/core/engine/notify.js';

describe('deepMerge', () => {
  it('merges objects deeply, replaces arrays and scalars, and never mutates its inputs', () => {
    const base = { a: 1, b: { c: 2, d: [1, 2], e: { f: true } }, g: 'x' };
    const override = { b: { d: [9], e: { h: 1 } }, g: null, i: { j: 1 } };
    const merged = deepMerge(base, override);
    expect(merged).toEqual({ a: 1, b: { c: 2, d: [9], e: { f: true, h: 1 } }, g: null, i: { j: 1 } });
    expect(base).toEqual({ a: 1, b: { c: 2, d: [1, 2], e: { f: true } }, g: 'x' });
    (merged.b.d as number[]).push(5);
    expect(override.b.d).toEqual([9]);
  });

  it('an undefined override keeps the base; a scalar override replaces an object', () => {
    expect(deepMerge({ a: { b: 1 } }, undefined)).toEqual({ a: { b: 1 } });
    expect(deepMerge({ a: { b: 1 } }, { a: 5 })).toEqual({ a: 5 });
  });

  it('ignores prototype-polluting keys', () => {
    const evil = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as unknown;
    const merged = deepMerge({}, evil) as Record<string, unknown>;
    expect(merged.ok).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('redactConfig', () => {
  it('redacts the Slack webhook, keeping scheme and host', () => {
    const out = redactConfig({ notifications: { slack_webhook: 'https://hooks.slack.com/services/T0/B0/secret', email: 'ops@example.com', ceo_alert: true } });
    expect(out).toEqual({ notifications: { slack_webhook: `https://hooks.slack.com/${REDACTED}`, email: 'ops@example.com', ceo_alert: true } });
  });

  it('redacts keys that look like secrets, anywhere, including nested values', () => {
    const out = redactConfig({ a: { api_key: 'k', db_password: 'p', auth_token: 't', client_secret: { x: 'y' }, port: 5 }, list: [{ token: 'z' }] });
    expect(out).toEqual({ a: { api_key: REDACTED, db_password: REDACTED, auth_token: REDACTED, client_secret: { x: REDACTED }, port: 5 }, list: [{ token: REDACTED }] });
  });

  it('strips credentials from any URL and secret query parameters, keeping the rest of the URL', () => {
    expect(redactConfig({ metrics: { url: 'http://admin:hunter2@prom:9090' } })).toEqual({ metrics: { url: 'http://admin:***@prom:9090' } });
    expect(redactConfig({ url: 'https://example.com/hook?token=abc&x=1' })).toEqual({ url: 'https://example.com/hook?token=***&x=1' });
    expect(redactConfig({ url: 'http://127.0.0.1:8080/health' })).toEqual({ url: 'http://127.0.0.1:8080/health' });
    expect(redactSecretValue('plain-secret')).toBe(REDACTED);
  });

  it('redacts secrets inside command strings (notification commands, health commands, service commands)', () => {
    const out = redactConfig({
      notifications: { command: "curl -H 'Authorization: Bearer pd-secret-123' https://events.pagerduty.com/v2/enqueue" },
      health: [{ command: 'curl -fsS https://admin:hunter2@host/health' }, { command: { run: 'check --password=hunter2 --env prod' } }],
      service: { start: 'PGPASSWORD=s3cret psql -c "select 1"' },
    });
    expect(out).toEqual({
      notifications: { command: "curl -H 'Authorization: Bearer ***' https://events.pagerduty.com/v2/enqueue" },
      health: [{ command: 'curl -fsS https://admin:***@host/health' }, { command: { run: 'check --password=*** --env prod' } }],
      service: { start: 'PGPASSWORD=*** psql -c "select 1"' },
    });
    expect(JSON.stringify(out)).not.toMatch(/pd-secret-123|hunter2|s3cret/);
  });
});

describe('redactSecrets', () => {
  const keep = (s: string) => redactSecrets(s, { keepUrlPaths: true });

  it('URL passwords anywhere in a string; a lone user of a web URL (a token) too, an ssh user not', () => {
    expect(keep('git clone https://ci:ghp_abc@github.com/o/r.git && ok')).toBe('git clone https://ci:***@github.com/o/r.git && ok');
    expect(keep('see postgres://app:p%40ss@db:5432/app?sslmode=require')).toBe('see postgres://app:***@db:5432/app?sslmode=require');
    expect(keep('curl https://ghp_abc123@api.github.com/x')).toBe('curl https://***@api.github.com/x');
    expect(keep('rsync -e ssh ssh://deploy@app-1/opt/app')).toBe('rsync -e ssh ssh://deploy@app-1/opt/app');
  });

  it('Bearer tokens and Authorization / token headers', () => {
    expect(keep('Authorization: Bearer eyJhbGciOi.J9.x-y_z=')).toBe('Authorization: Bearer ***');
    expect(keep("curl -H 'Authorization: Basic YWRtaW46aHVudGVyMg==' x")).toBe("curl -H 'Authorization: Basic ***' x");
    expect(keep('curl -H "X-Auth-Token: abc123" -H "PRIVATE-TOKEN: glpat-1" -H "Content-Type: application/json"')).toBe(
      'curl -H "X-Auth-Token: ***" -H "PRIVATE-TOKEN: ***" -H "Content-Type: application/json"',
    );
  });

  it('token= / password= / secret= / api_key= / apikey= values, quoted or not, and JSON fields', () => {
    expect(keep('https://h/x?api_key=k1&apikey=k2&access_token=t&key=k3&page=2')).toBe('https://h/x?api_key=***&apikey=***&access_token=***&key=***&page=2');
    expect(keep('tool --token=abc --secret "x y" client_secret=\'s p\' --name=app --api-key k -v')).toBe(
      "tool --token=*** --secret \"***\" client_secret='***' --name=app --api-key *** -v",
    );
    expect(keep('curl -fsS -u admin:hunter2 https://h/x')).toBe('curl -fsS -u admin:*** https://h/x');
    expect(keep('notify -d \'{"password": "hunter2", "user": "bob"}\'')).toBe('notify -d \'{"password": "***", "user": "bob"}\'');
  });

  it('leaves text without secrets alone and is idempotent', () => {
    for (const s of ['systemctl restart app', 'python3 verify.py --env prod --timeout=5', 'tokens: 5 left', 'http://127.0.0.1:8080/health']) {
      expect(keep(s)).toBe(s);
    }
    const once = keep('curl -H "Authorization: Bearer abc" https://u:p@h/?token=t');
    expect(keep(once)).toBe(once);
  });

  it('stays linear on long lines (it runs on every output line of a rollback)', () => {
    const t = performance.now();
    for (const s of ['a'.repeat(50_000), 'a.'.repeat(25_000), 'a-'.repeat(25_000), 'x=y&'.repeat(12_500), '-a '.repeat(16_000)]) {
      redactSecrets(s);
      keep(s);
    }
    expect(performance.now() - t).toBeLessThan(1500);
  });

  it('by default (the engine\'s output lines) shortens every URL to scheme://host, and it is the engine\'s redactSecrets', () => {
    expect(engineRedactSecrets).toBe(redactSecrets);
    expect(redactSecrets('POST https://hooks.slack.com/services/T0/B0/XYZ failed: Bearer abc')).toBe('POST https://hooks.slack.com/*** failed: Bearer ***');
    expect(redactSecrets('+ curl https://admin:hunter2@host/health?token=x')).toBe('+ curl https://host/***');
    expect(redactSecrets('PGPASSWORD=x psql')).toBe('PGPASSWORD=*** psql');
  });

  it('redactConfig does not mutate its input', () => {
    const input = { slack_webhook: 'https://hooks.slack.com/x' };
    redactConfig(input);
    expect(input.slack_webhook).toBe('https://hooks.slack.com/x');
  });
});
