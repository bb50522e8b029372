/**
 * Secrets out of anything that is printed (`config show`, logs, JSON). A value is a secret when its
 * key looks like one (slack_webhook, token, password, secret, webhook, api_key); a URL anywhere that
 * carries credentials loses them. Webhook URLs keep their scheme and host so the operator can tell
 * which service they point at.
 */
import { isPlainObject } from './merge.js';

export const REDACTED = '<redacted>';

const SECRET_KEY = /token|password|passwd|secret|webhook|api[_-]?key|credential|private[_-]?key/i;
const SECRET_QUERY = /token|password|secret|sig|signature|key|auth/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Redacts a secret value: URLs keep `scheme://host/`, anything else becomes `<redacted>`. */
export function redactSecretValue(value: string): string {
  const url = tryUrl(value);
  if (url) return `${url.protocol}//${url.host}/${REDACTED}`;
  return REDACTED;
}

/** Removes credentials from a URL that is not itself a secret (user:pass@, ?token=...). */
export function redactUrlCredentials(value: string): string {
  const url = tryUrl(value);
  if (!url) return value;
  let changed = false;
  if (url.username || url.password) {
    url.username = REDACTED;
    url.password = '';
    changed = true;
  }
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_QUERY.test(name)) {
      url.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  return changed ? decodeURI(url.toString()) : value;
}

function tryUrl(value: string): URL | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return undefined;
  try {
    const url = new URL(value);
    return url.host ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A deep copy of `value` with every secret replaced. */
export function redactConfig<T>(value: T): T {
  return redact(value, false) as T;
}

function redact(value: unknown, secret: boolean): unknown {
  if (typeof value === 'string') return secret ? redactSecretValue(value) : redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, secret));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, secret || isSecretKey(k));
    return out;
  }
  return value;
}
