/**
 * Backup names come from directory listings (data an attacker with write access to backups_dir could
 * choose) and from the operator (`--to`). A name is checked before anything runs with it.
 */
import { UserError } from '../errors.js';

/**
 * Characters no name may contain, because they cannot be seen or they change how the rest is seen:
 * controls (C0, DEL and the C1 range U+0080-U+009F), format characters (bidi embeddings, overrides and
 * isolates U+202A-U+202E and U+2066-U+2069, zero-width spaces and joiners, the BOM, soft hyphens),
 * line and paragraph separators, lone surrogates, and the other code points Unicode says to render as
 * nothing (Hangul fillers, variation selectors, tags). A name such as `backup_1\u202e0p` could
 * otherwise show itself as another release.
 */
const UNSAFE_CHAR = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\p{Default_Ignorable_Code_Point}]/u;
const UNSAFE_CHARS = new RegExp(UNSAFE_CHAR.source, 'gu');
// eslint-disable-next-line no-control-regex
const C0_CONTROL = /[\x00-\x1f\x7f]/;

/** `U+202E`. */
function codePointLabel(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `name` is not a safe backup name, or null when it is. */
export function backupNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.includes('\0')) return 'it contains a NUL byte';
  if (C0_CONTROL.test(name)) return 'it contains a control character (newline, tab, escape, ...)';
  const unsafe = UNSAFE_CHAR.exec(name)?.[0];
  if (unsafe !== undefined) {
    const what = /\p{Cc}/u.test(unsafe) ? 'a control character' : 'an invisible or direction-changing character';
    return `it contains ${what} (${codePointLabel(unsafe)})`;
  }
  if (name.includes('/')) return 'it contains "/"';
  if (name === '.' || name === '..' || name.includes('..')) return 'it contains ".."';
  if (name.startsWith('-')) return 'it starts with "-"';
  if (name.length > 255) return 'it is longer than 255 characters';
  return null;
}

export function isSafeBackupName(name: string): boolean {
  return backupNameProblem(name) === null;
}

/** `name` in double quotes, with `"`, `\\` and every unsafe character escaped (`"backup_1\u202e0p"`). */
export function quoteName(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`).replace(UNSAFE_CHARS, escapeChar)}"`;
}

/**
 * A name (or any text from a listing) as it can be shown on one line: as it is when every character is
 * visible, else quoted with each unsafe character escaped (`"a\nb"`), so what is printed is what is there.
 */
export function displayName(name: string): string {
  return UNSAFE_CHAR.test(name) ? quoteName(name) : name;
}

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function escapeChar(ch: string): string {
  const short = SHORT_ESCAPES[ch];
  if (short !== undefined) return short;
  const cp = ch.codePointAt(0) ?? 0;
  return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
}

/** Throws a UserError (exit 1, code INVALID_BACKUP_NAME) naming the problem. */
export function assertBackupName(name: string): string {
  const problem = backupNameProblem(name);
  if (problem !== null) {
    throw new UserError(`invalid backup name ${quoteName(name)}: ${problem}`, {
      hint: 'use a name exactly as `rollback-tui list` prints it',
      code: 'INVALID_BACKUP_NAME',
    });
  }
  return name;
}

const STAMP = /(?:^|[^0-9])(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})(?:_(\d+))?$/;

/**
 * `backup_20241112_153045` (or any `<prefix>YYYYMMDD_HHMMSS`) -> that instant, read as UTC. Names carry no
 * zone: UTC keeps listing and sorting independent of the viewer's zone, and snapshots are named in UTC.
 * Releases named in local time (`date +%Y%m%d_%H%M%S` on a host east of UTC) therefore read as that many
 * hours in the future; the order among them stays right, and a snapshot is never named older than the
 * newest existing entry (see snapshotStampFloor in common.ts). A `_N` suffix (several snapshots in one
 * second) is allowed. Null when the name has no valid timestamp.
 */
export function parseBackupTimestamp(name: string): Date | null {
  const m = STAMP.exec(name);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const date = new Date(ms);
  if (
    date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d ||
    date.getUTCHours() !== h || date.getUTCMinutes() !== mi || date.getUTCSeconds() !== s
  ) {
    return null;
  }
  // `_N` (the Nth snapshot within that second) orders after the plain name and `_9` before `_10`.
  const suffix = m[7] === undefined ? 0 : Math.min(Number(m[7]), 999);
  return suffix ? new Date(ms + suffix) : date;
}

/** `YYYYMMDD_HHMMSS` for a date (UTC). */
export function formatBackupStamp(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

/** `backup_YYYYMMDD_HHMMSS` for a date (UTC). */
export function formatBackupName(date: Date): string {
  return `backup_${formatBackupStamp(date)}`;
}
