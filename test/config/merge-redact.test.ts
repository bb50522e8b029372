import { describe, expect, it } from 'vitest';
import { deepMerge } from '../../src/core/config/merge.js';
import { redactConfig, redactSecretValue, redactUrlCredentials, REDACTED } from '../../src/core/config/redact.js';

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

  it('strips credentials from any URL and secret query parameters', () => {
    expect(redactUrlCredentials('https://user:pw@prom.example.com:9090/api?x=1')).toBe(`https://${REDACTED}@prom.example.com:9090/api?x=1`);
    expect(redactUrlCredentials('https://example.com/hook?token=abc&x=1')).toBe(`https://example.com/hook?token=${REDACTED}&x=1`);
    expect(redactUrlCredentials('not a url')).toBe('not a url');
    expect(redactConfig({ metrics: { url: 'http://admin:hunter2@prom:9090' } })).toEqual({ metrics: { url: `http://${REDACTED}@prom:9090/` } });
    expect(redactSecretValue('plain-secret')).toBe(REDACTED);
  });

  it('does not mutate its input', () => {
    const input = { slack_webhook: 'https://hooks.slack.com/x' };
    redactConfig(input);
    expect(input.slack_webhook).toBe('https://hooks.slack.com/x');
  });
});
