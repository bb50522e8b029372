/**
 * Secrets out of anything that is printed (`config show`, logs, step output, notifications' errors).
 *
 * - `redactConfig`: a value is a secret when its key looks like one (slack_webhook, token, password,
 *   secret, webhook, api_key, ...) and becomes `<redacted>`; webhook URLs keep their scheme and host so
 *   the operator can tell which service they point at. Every other string goes through `redactSecrets`.
 * - `redactSecrets`: the secrets inside free text (a shell command, an output line): URL passwords,
 *   `Bearer` tokens, `Authorization:` and `X-...-Token:` style headers, `token=` / `password=` /
 *   `secret=` / `api_key=` style arguments and query parameters, the value of any flag named with key,
 *   token, secret, password, auth or credential (`--routing-key VALUE`, `--auth=VALUE`), `curl -u
 *   user:password`, `"password": "..."` in JSON, secret keys at the start of a YAML, INI or .env line,
 *   PEM private keys. The engine uses it on every line it shows or records.
 */
import { isPlainObject } from './merge.js';

export const REDACTED = '<redacted>';
/** What a secret inside a longer string becomes (short, and harmless in a shell command). */
export const MASK = '***';

const SECRET_KEY = /token|password|passwd|secret|webhook|api[_-]?key|credential|private[_-]?key/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** Redacts a secret value: URLs keep `scheme://host/`, anything else becomes `<redacted>`. */
export function redactSecretValue(value: string): string {
  const url = tryUrl(value);
  if (url) return `${url.protocol}//${url.host}/${REDACTED}`;
  return REDACTED;
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

// ---------------------------------------------------------------------------------------------------
// secrets inside text

/** A name (of an argument, a query parameter, a variable, a JSON key) whose value is a secret. */
const SECRET_NAME = /token|passw(?:or)?d|secret|api[_-]?key|access[_-]?key|private[_-]?key|signature|credential/i;
const SECRET_SHORT_NAME = /^(?:key|sig|auth|pass|pwd|pw)$/i;
/** A header (`X-Auth-Token`, `PRIVATE-TOKEN`, `X-Api-Key`, `X-Routing-Key`) whose value is a secret. */
const SECRET_HEADER = /(?:token|secret|passw(?:or)?d|key|signature|auth|credentials?)$/i;
/**
 * A command-line flag whose value is a secret: any flag with one of these words in its name
 * (`--routing-key`, `--auth`, `--client-credentials`, `--db-password`). Flags are where tools take
 * secrets, and an unknown flag named like one is redacted rather than guessed harmless.
 */
const SECRET_FLAG_WORD = /key|token|secret|passw|pwd|auth|credential|signature/i;

// The look-behinds make a match start only where a name or scheme starts, so a long line stays linear.
const URL_ANY = /(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi;
/** `scheme://user:password@` (the user may be empty). */
const URL_PASSWORD = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*):[^\s/@'"]+@/gi;
/** `http(s)://token@`: a lone user part of a web URL is usually a token (ssh://deploy@ keeps its user). */
const URL_LONE_USER = /(?<![a-z0-9+.-])(https?:\/\/)[^\s:/@'"]+@/gi;
const BEARER = /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/g;
const AUTHORIZATION = /\b((?:proxy-)?authorization\s*:\s*)(?:(basic|bearer|token|digest|negotiate)\s+)?[^\s'"]+/gi;
const HEADER = /(?<![A-Za-z0-9-])([A-Za-z0-9]+(?:-[A-Za-z0-9]+)+)(\s*:\s*)[^\s'"]+/g;
const ASSIGNMENT = /(?<![A-Za-z0-9_.-])([A-Za-z0-9_.-]+)=("[^"]*"|'[^']*'|[^\s&'"]+)/g;
/** `--token VALUE`, `--routing-key "VALUE"` (a flag named like a secret, then its value). */
const FLAG = /(^|\s)(--?[A-Za-z0-9_-]+)(\s+)("[^"]*"|'[^']*'|[^\s'"-][^\s'"]*)/g;
/** `curl -u user:password`, `--user user:password`. */
const USER_FLAG = /(^|\s)(-u|--user)(\s+['"]?[^\s:'"]*):[^\s'"]+/g;
const JSON_PAIR = /"([A-Za-z0-9_.-]+)"(\s*:\s*)"(?:[^"\\]|\\.)*"/g;
/**
 * A config-file line whose key is a secret: `db_password: x` (YAML), `password = x` (INI),
 * `export API_TOKEN=x` (.env), also as a diff line (`+`, `-`) or a YAML list item.
 */
const KEY_LINE = /^([ \t]*[-+]?[ \t]*(?:export[ \t]+)?)(["']?)([A-Za-z0-9_.-]+)\2([ \t]*[:=][ \t]*)(\S.*)$/gm;
/** A key of a config-file line that names a secret, as a whole word of it (`db_password`, `apiToken`; not `tokens`). */
const SECRET_KEY_WORD = /(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|access_?key|private_?key|credentials?)(?:_|$)/;

function isSecretKeyWord(name: string): boolean {
  return SECRET_KEY_WORD.test(name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[.-]/g, '_'));
}

/** A PEM private key block (a YAML `private_key: |` value, a key file in a log). */
const PEM_PRIVATE = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g;

function isSecretName(name: string): boolean {
  const bare = name.replace(/^-+/, '');
  if (bare !== name && SECRET_FLAG_WORD.test(bare)) return true;
  return SECRET_NAME.test(bare) || SECRET_SHORT_NAME.test(bare);
}

/** `***`, inside the quotes when the value is quoted. */
function masked(value: string): string {
  const quote = value.startsWith('"') || value.startsWith("'") ? value.charAt(0) : '';
  return `${quote}${MASK}${quote}`;
}

export interface RedactOptions {
  /**
   * Keep URLs as written apart from their credentials (`config show`). By default every URL is
   * shortened to `scheme://host/***`, since a webhook's path is its secret.
   */
  keepUrlPaths?: boolean;
}

/** Replaces the secrets inside `text` with `***` (see the module comment for what counts). */
export function redactSecrets(text: string, opts: RedactOptions = {}): string {
  let out = opts.keepUrlPaths
    ? text.replace(URL_PASSWORD, `$1:${MASK}@`).replace(URL_LONE_USER, `$1${MASK}@`)
    : text.replace(URL_ANY, (u) => {
        const url = tryUrl(u);
        return url ? `${url.protocol}//${url.host}/${MASK}` : MASK;
      });
  out = out
    .replace(BEARER, `Bearer ${MASK}`)
    .replace(AUTHORIZATION, (_m, head: string, scheme: string | undefined) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`)
    .replace(HEADER, (m, name: string, sep: string) => (SECRET_HEADER.test(name) ? `${name}${sep}${MASK}` : m))
    .replace(ASSIGNMENT, (m, name: string, value: string) => (isSecretName(name) ? `${name}=${masked(value)}` : m))
    .replace(FLAG, (m, lead: string, flag: string, sep: string, value: string) => (isSecretName(flag) ? `${lead}${flag}${sep}${masked(value)}` : m))
    .replace(USER_FLAG, `$1$2$3:${MASK}`)
    .replace(JSON_PAIR, (m, name: string, sep: string) => (isSecretName(name) ? `"${name}"${sep}"${MASK}"` : m))
    .replace(KEY_LINE, (m, lead: string, q: string, name: string, sep: string, value: string) =>
      isSecretKeyWord(name) && !value.includes(MASK) ? `${lead}${q}${name}${q}${sep}${MASK}` : m,
    )
    .replace(PEM_PRIVATE, (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${MASK}`);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// configuration

/** A deep copy of `value` with every secret replaced. */
export function redactConfig<T>(value: T): T {
  return redact(value, false) as T;
}

function redact(value: unknown, secret: boolean): unknown {
  if (typeof value === 'string') return secret ? redactSecretValue(value) : redactSecrets(value, { keepUrlPaths: true });
  if (Array.isArray(value)) return value.map((v) => redact(v, secret));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redact(v, secret || isSecretKey(k));
    return out;
  }
  return value;
}
