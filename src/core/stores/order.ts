/**
 * Release order: which release is older than which. It comes from a layout's own record (Deployer's
 * releases_log) or from the names (timestamps, semantic versions, release numbers), and only falls back to
 * the modification time when the names say nothing: one `touch` or rsync must not reorder releases.
 *
 * The result is `Backup.order` (0 = oldest); every comparison of age goes through `olderFirst`.
 */
import { parseBackupTimestamp } from './names.js';
import type { Backup } from './types.js';

/** Negative when `a` is older than `b`: by `order` when both have one, else by creation time. */
export function olderFirst(a: Pick<Backup, 'order' | 'createdMs'>, b: Pick<Backup, 'order' | 'createdMs'>): number {
  if (a.order !== undefined && b.order !== undefined) return a.order - b.order;
  return a.createdMs - b.createdMs;
}

/** `v1.2.3`, `1.10.0`, `2.0.0-rc.1`, `1.0.0+build.5` (build metadata ignored, as semver says). */
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$/;

interface SemVer {
  core: [number, number, number];
  pre: string[];
}

export function parseSemver(name: string): SemVer | null {
  const m = SEMVER.exec(name);
  if (!m) return null;
  return { core: [Number(m[1]), Number(m[2]), Number(m[3])], pre: m[4] ? m[4].split('.') : [] };
}

/** Semantic version precedence: core numbers, then a pre-release sorts before the release. */
export function compareSemver(a: SemVer, b: SemVer): number {
  for (let i = 0; i < 3; i++) if (a.core[i] !== b.core[i]) return a.core[i]! - b.core[i]!;
  if (a.pre.length === 0 || b.pre.length === 0) return b.pre.length - a.pre.length;
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Number(x) - Number(y);
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  return x.length - y.length || byName(x, y);
}

/**
 * How a set of names orders by themselves: all timestamps, all semantic versions or all release numbers;
 * null when they are mixed or say nothing (then creation time, then name).
 */
function nameComparator(names: readonly string[]): ((a: string, b: string) => number) | null {
  if (names.length === 0) return null;
  if (names.every((n) => parseBackupTimestamp(n) !== null)) {
    return (a, b) => parseBackupTimestamp(a)!.getTime() - parseBackupTimestamp(b)!.getTime() || byName(a, b);
  }
  if (names.every((n) => parseSemver(n) !== null)) {
    return (a, b) => compareSemver(parseSemver(a)!, parseSemver(b)!) || byName(a, b);
  }
  if (names.every((n) => /^\d+$/.test(n))) return (a, b) => compareDigits(a, b);
  return null;
}

/**
 * Set `order` on every entry and return them newest first. `recorded` (name -> position in the layout's
 * record, higher = newer) wins: recorded releases are newer than unrecorded ones, which order by name.
 * Unusable entries are ordered too (they are listed), by the same rules.
 */
export function applyOrder(list: Backup[], recorded: ReadonlyMap<string, number> = new Map()): Backup[] {
  const unrecorded = list.filter((b) => !recorded.has(b.name)).map((b) => b.name);
  const byNames = nameComparator(unrecorded);
  const sorted = [...list].sort((a, b) => {
    const ra = recorded.get(a.name);
    const rb = recorded.get(b.name);
    if (ra !== undefined || rb !== undefined) {
      if (ra === undefined) return -1;
      if (rb === undefined) return 1;
      return ra - rb;
    }
    if (byNames) return byNames(a.name, b.name);
    return a.createdMs - b.createdMs || byName(a.name, b.name);
  });
  sorted.forEach((b, i) => (b.order = i));
  return sorted.reverse();
}
