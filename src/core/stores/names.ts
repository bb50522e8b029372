/**
 * Backup names come from directory listings (data an attacker with write access to backups_dir could
 * choose) and from the operator (`--to`). A name is checked before anything runs with it.
 */
import { UserError } from '../errors.js';

/** Why `name` is not a safe backup name, or null when it is. */
export function backupNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.includes('\0')) return 'it contains a NUL byte';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'it contains a control character (newline, tab, escape, ...)';
  if (name.includes('/')) return 'it contains "/"';
  if (name === '.' || name === '..' || name.includes('..')) return 'it contains ".."';
  if (name.startsWith('-')) return 'it starts with "-"';
  if (name.length > 255) return 'it is longer than 255 characters';
  return null;
}

export function isSafeBackupName(name: string): boolean {
  return backupNameProblem(name) === null;
}

/** Throws a UserError (exit 1, code INVALID_BACKUP_NAME) naming the problem. */
export function assertBackupName(name: string): string {
  const problem = backupNameProblem(name);
  if (problem !== null) {
    throw new UserError(`invalid backup name ${JSON.stringify(name)}: ${problem}`, {
      hint: 'use a name exactly as `rollback-tui list` prints it',
      code: 'INVALID_BACKUP_NAME',
    });
  }
  return name;
}

// `_` between date and time is optional: Capistrano names releases YYYYMMDDHHMMSS (UTC).
const STAMP = /(?:^|[^0-9])(\d{4})(\d{2})(\d{2})_?(\d{2})(\d{2})(\d{2})(?:_(\d+))?$/;

/**
 * `backup_20241112_153045` (or any `<prefix>YYYYMMDD_HHMMSS`, or Capistrano's `20241112153045`) -> that instant, read as UTC. Names carry no
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
