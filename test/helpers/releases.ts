/**
 * Temp symlink-store layouts for tests: `<root>/backups/backup_YYYYMMDD_HHMMSS/...` and a `current`
 * symlink. Generic: what goes into each release is a callback. Also `resolvedEnv()` to build a full
 * ResolvedEnvironment from a target (+ executor) the way the config loader would.
 *
 *   const l = makeReleaseLayout({ count: 3 });       // 3 releases, current -> newest
 *   const env = resolvedEnv('test', l.symlinkTarget(), { state_dir: l.stateDir });
 *   ...
 *   l.cleanup();
 */
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync, utimesSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentSchema, PolicySchema, type ResolvedEnvironment, type SymlinkTargetConfig } from '../../src/core/config/schema.js';

export interface ReleaseLayoutOptions {
  /** How many releases (ignored when `names` is given). Default 3. */
  count?: number;
  /** Explicit directory names (created as given, even hostile ones). */
  names?: string[];
  /** Which one `current` points at: a name, an index into the (oldest-first) names, or null for none. Default: newest. */
  live?: string | number | null;
  /** Fill a release directory. Default: VERSION containing the name, and app.txt. */
  content?: (name: string, dir: string, index: number) => void;
  /** Timestamp of the first (oldest) release. Default 2024-11-12T10:00:00Z. */
  start?: Date;
  /** Seconds between releases. Default 3600. */
  stepSeconds?: number;
}

export interface ReleaseLayout {
  root: string;
  backupsDir: string;
  current: string;
  stateDir: string;
  /** Oldest first. */
  names: string[];
  /** A symlink target config for this layout (plus overrides). */
  symlinkTarget(extra?: Partial<SymlinkTargetConfig>): SymlinkTargetConfig;
  /** Point `current` at a release directly (test setup, not the store's switch). */
  pointCurrentAt(name: string): void;
  cleanup(): void;
}

export function backupNameFor(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `backup_${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`;
}

export function makeReleaseLayout(options: ReleaseLayoutOptions = {}): ReleaseLayout {
  const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'rtui-releases-')));
  const backupsDir = path.join(root, 'backups');
  const current = path.join(root, 'current');
  const stateDir = path.join(root, 'state');
  mkdirSync(backupsDir);
  const start = (options.start ?? new Date('2024-11-12T10:00:00Z')).getTime();
  const step = (options.stepSeconds ?? 3600) * 1000;
  const names =
    options.names ?? Array.from({ length: options.count ?? 3 }, (_, i) => backupNameFor(new Date(start + i * step)));
  const content =
    options.content ??
    ((name: string, dir: string) => {
      writeFileSync(path.join(dir, 'VERSION'), `${name}\n`);
      writeFileSync(path.join(dir, 'app.txt'), `app of ${name}\n`);
    });
  names.forEach((name, i) => {
    const dir = path.join(backupsDir, name);
    mkdirSync(dir);
    content(name, dir, i);
    const t = new Date(start + i * step);
    utimesSync(dir, t, t);
  });
  const pointCurrentAt = (name: string): void => {
    rmSync(current, { force: true });
    symlinkSync(path.join(backupsDir, name), current);
  };
  const live = options.live === undefined ? names.length - 1 : options.live;
  if (live !== null) {
    const name = typeof live === 'number' ? names[live] : live;
    if (name !== undefined) pointCurrentAt(name);
  }
  return {
    root,
    backupsDir,
    current,
    stateDir,
    names,
    symlinkTarget: (extra = {}) => ({
      strategy: 'symlink',
      backups_dir: backupsDir,
      current,
      pattern: 'backup_*',
      ...extra,
    }),
    pointCurrentAt,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** A ResolvedEnvironment as the loader would produce it (defaults applied, default policy). */
export function resolvedEnv(name: string, raw: Record<string, unknown>): ResolvedEnvironment {
  const { state_dir, ...rest } = raw as { state_dir?: string };
  const env = EnvironmentSchema.parse(rest);
  const target = env.target as { backups_dir?: string; repo?: string };
  const stateDir = state_dir ?? `${target.backups_dir ?? `${target.repo}/.rollback`}/.rollback`;
  const { policy: _policy, ...envRest } = env;
  return { ...envRest, name, policy: PolicySchema.parse({}), state_dir: stateDir };
}
