/**
 * Deploy tools' layouts of symlink releases (`target.layout`): Capistrano and Deployer keep releases in
 * `<deploy_to>/releases/`, the live one behind `<deploy_to>/current`, and records of their own. A rollback
 * by this tool keeps those records the way the tools themselves write them, so the team's `cap` / `dep`
 * commands and scripts keep working afterwards.
 *
 * Capistrano (3.17): releases are named YYYYMMDDHHMMSS (UTC) and ordered by name. After a rollback the
 * line `<user> rolled back to release <name>` is appended to revisions.log, and, as `cap deploy:rollback`
 * does, the release rolled back away from is archived as `<deploy_to>/rolled-back-release-<name>.tar.gz`
 * and removed: Capistrano's own rollback takes `ls -xt releases` (newest mtime first) and assumes index 0
 * is live, so a fled release left in place would be its next target. The live release is also made the
 * newest by mtime when it is not (a targeted rollback past several releases). Archived releases are listed
 * (bad: they were rolled back away from) and `--to` restores one from its archive. `current` stays absolute.
 *
 * Deployer (7): releases are numbered, ordered by `.dep/releases_log` (JSON lines), else by number. A
 * release with a BAD_RELEASE file is bad; the release rolled back away from gets one, `<ISO 8601>,<user>`,
 * as `dep rollback` writes it. `.dep/deploy.lock` is Deployer's lock: held, a rollback is refused (exit 3)
 * unless --break-lock; during the switch this tool holds it itself. A relative `current` stays relative.
 *
 * The shell fragments here run inside the symlink store's scripts (variables documented at each).
 */
import os from 'node:os';
import path from 'node:path';
import type { ReleaseLayoutName } from '../config/schema.js';
import { ExitCode, UserError } from '../errors.js';
import { parseBackupTimestamp } from './names.js';
import type { Backup, Marks } from './types.js';
import { makeBackup } from './common.js';

export const CAPISTRANO_ARCHIVE_PREFIX = 'rolled-back-release-';

/**
 * List fragment: expects $layout, $dt (deploy_to), $bd (releases). Prints the layout's records as X
 * (tag, value) pairs: `record` (revisions.log or releases_log), `archive:<name>` (mtime of a Capistrano
 * archive), `bad:<name>` (a Deployer BAD_RELEASE's content).
 */
export const LAYOUT_LIST_FRAGMENT = `
layout_record() { if [ -f "$1" ]; then printf 'X\\0record\\0'; tail -n 500 -- "$1" | tr '\\000' '\\001'; printf '\\0'; fi; }
case $layout in
capistrano)
  layout_record "$dt/revisions.log"
  for a in "$dt"/${CAPISTRANO_ARCHIVE_PREFIX}*.tar.gz; do
    [ -f "$a" ] || continue
    n=\${a##*/${CAPISTRANO_ARCHIVE_PREFIX}}; n=\${n%.tar.gz}
    m=$(stat -c %Y -- "$a" 2>/dev/null || stat -f %m -- "$a")
    printf 'X\\0archive:%s\\0%s\\0' "$n" "$m"
  done ;;
deployer)
  layout_record "$dt/.dep/releases_log"
  for f in "$bd"/*/BAD_RELEASE; do
    [ -f "$f" ] || continue
    n=\${f%/BAD_RELEASE}; n=\${n##*/}
    printf 'X\\0bad:%s\\0%s\\0' "$n" "$(head -c 200 -- "$f" | tr '\\000\\n' '\\001 ')"
  done ;;
esac
`;

/**
 * Switch fragments. Expect $layout, $dt, $bd, $name, $tgt, $user, $breaklock, $fled (the release live
 * before, '' when none) and $archive (1: archive $fled, Capistrano). Exit 37: Deployer's lock is held.
 */
export const LAYOUT_BEFORE_SWITCH = `
lock="$dt/.dep/deploy.lock"; ours="$user (rollback-tui)"; took_lock=
if [ "$layout" = deployer ]; then
  if [ -f "$lock" ] && [ "$breaklock" = 1 ]; then echo "breaking Deployer's lock $lock (held by $(head -c 200 -- "$lock" | tr '\\n' ' '))"; rm -f -- "$lock"; fi
  mkdir -p -- "$dt/.dep"
  if ( set -C; printf '%s\\n' "$ours" > "$lock" ) 2>/dev/null; then took_lock=1; else printf '%s' "$(head -c 200 -- "$lock")" >&2; exit 37; fi
  trap '[ -n "$took_lock" ] && [ "$(cat -- "$lock" 2>/dev/null)" = "$ours" ] && rm -f -- "$lock"' EXIT
fi
`;

/** After a successful switch; problems are warnings (the switch itself is done). */
export const LAYOUT_AFTER_SWITCH = `
case $layout in
capistrano)
  if [ -n "$fled" ] && [ "$archive" = 1 ] && [ -d "$bd/$fled" ] && [ ! -L "$bd/$fled" ]; then
    a="$dt/${CAPISTRANO_ARCHIVE_PREFIX}$fled.tar.gz"
    if tar -czf "$a" "$bd/$fled" 2>/dev/null && rm -rf -- "$bd/$fled"; then echo "archived $bd/$fled as $a (as cap deploy:rollback does)"
    else echo "warning: could not archive $bd/$fled as $a: Capistrano's next deploy:rollback may pick it" >&2; fi
  fi
  if [ -n "$(find "$bd" -mindepth 1 -maxdepth 1 -newer "$tgt" -print 2>/dev/null | head -n 1)" ]; then touch -c -- "$tgt"; fi
  if printf '%s rolled back to release %s\\n' "$user" "$name" >> "$dt/revisions.log"; then echo "appended to $dt/revisions.log: $user rolled back to release $name"
  else echo "warning: could not append to $dt/revisions.log" >&2; fi ;;
deployer)
  if [ -n "$fled" ] && [ -d "$bd/$fled" ]; then
    if printf '%s,%s\\n' "$(date -u +%Y-%m-%dT%H:%M:%S+0000)" "$user" > "$bd/$fled/BAD_RELEASE"; then echo "marked $fled bad: $bd/$fled/BAD_RELEASE"
    else echo "warning: could not write $bd/$fled/BAD_RELEASE" >&2; fi
  fi ;;
esac
`;

/**
 * Restore script (Capistrano): extract `rolled-back-release-$name.tar.gz` and move its release directory
 * back into releases/ (the archive holds the release's absolute path, as `tar -czf` wrote it), then remove
 * the archive. Args: dt bd name. Exit 35: cannot extract, 36: the archive holds no releases/<name>.
 */
export const RESTORE_SCRIPT = `
dt=$1 bd=$2 name=$3
[ -d "$bd/$name" ] && exit 0
a="$dt/${CAPISTRANO_ARCHIVE_PREFIX}$name.tar.gz"
[ -f "$a" ] || exit 20
t="$bd/.rtui-restore-$$"
rm -rf -- "$t"; mkdir -- "$t" || exit 35
trap 'rm -rf -- "$t"' EXIT
tar -xzf "$a" -C "$t" || exit 35
src=$(find "$t" -type d -name "$name" -print | while IFS= read -r d; do [ "$(basename -- "$(dirname -- "$d")")" = releases ] && { printf '%s' "$d"; break; }; done)
[ -n "$src" ] || exit 36
mv -- "$src" "$bd/$name" || exit 35
rm -f -- "$a"
fsync_dir "$bd"
echo "restored $bd/$name from $a"
`;

/** Validation of an archived target (Capistrano): the archive exists and is a readable gzip. Expects $dt, $name. */
export const ARCHIVE_CHECK = `
a="$dt/${CAPISTRANO_ARCHIVE_PREFIX}$name.tar.gz"
[ -f "$a" ] || exit 20
gzip -t -- "$a" 2>/dev/null || exit 35
`;

/** Who did it, as the deploy tools record it (their local user). */
export function layoutUser(): string {
  const u = process.env.USER ?? process.env.LOGNAME;
  if (u && /^[A-Za-z0-9._@-]+$/.test(u)) return u;
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Positions of releases in Deployer's releases_log (the last line naming a release wins). */
function deployerRecord(text: string | undefined): { rank: Map<string, number>; created: Map<string, number> } {
  const rank = new Map<string, number>();
  const created = new Map<string, number>();
  (text ?? '').split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      const o = JSON.parse(line) as { release_name?: unknown; created_at?: unknown };
      const name = typeof o.release_name === 'string' || typeof o.release_name === 'number' ? String(o.release_name) : null;
      if (name === null) return;
      rank.set(name, i);
      // PHP's ISO8601 format: 2024-01-03T12:00:00+0000.
      const t = typeof o.created_at === 'string' ? Date.parse(o.created_at.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : NaN;
      if (Number.isFinite(t)) created.set(name, t);
    } catch {
      // A damaged line is skipped, as Deployer skips what it cannot decode.
    }
  });
  return { rank, created };
}

/** Capistrano's revisions.log: the deploy line of each release (`Branch main (at abc) deployed as release N by u`). */
function capistranoDetails(text: string | undefined): Map<string, string> {
  const details = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const m = /^Branch (\S+) \(at (\S+)\) deployed as release (\S+) by (.+)$/.exec(line.trim());
    if (m) details.set(m[3]!, `branch ${m[1]} at ${m[2]!.slice(0, 12)}, deployed by ${m[4]}`);
  }
  return details;
}

export interface LayoutListing {
  /** The entries with the layout's marks, details and archived releases added. */
  backups: Backup[];
  /** Layout order (name -> position, higher = newer) to pass to applyOrder. */
  recorded: Map<string, number>;
}

/** Apply a layout's records (from the list script's X pairs) to the listed releases. */
export function applyLayout(
  layout: ReleaseLayoutName,
  backups: Backup[],
  extra: ReadonlyMap<string, string>,
  marks: Marks,
  deployTo: string,
): LayoutListing {
  const record = extra.get('record');
  if (layout === 'capistrano') {
    const details = capistranoDetails(record);
    for (const b of backups) {
      const d = details.get(b.name);
      if (d && b.detail === undefined) b.detail = d;
    }
    const present = new Set(backups.map((b) => b.name));
    for (const [key, mtime] of extra) {
      if (!key.startsWith('archive:')) continue;
      const name = key.slice('archive:'.length);
      if (present.has(name) || !/^\d{14}$/.test(name)) continue;
      const file = path.posix.join(deployTo, `${CAPISTRANO_ARCHIVE_PREFIX}${name}.tar.gz`);
      const deployed = details.get(name);
      const b = makeBackup(name, Number(mtime) * 1000, marks, null, {
        detail: `archived after a rollback: ${file} (--to restores it)${deployed ? `; ${deployed}` : ''}`,
        ...(parseBackupTimestamp(name) ? {} : { createdMs: Number(mtime) * 1000 }),
      });
      b.bad = true;
      backups.push(b);
    }
    return { backups, recorded: new Map() };
  }
  const { rank, created } = deployerRecord(record);
  for (const b of backups) {
    const t = created.get(b.name);
    if (t !== undefined) {
      b.createdMs = t;
      b.created = new Date(t).toISOString();
    }
    const badRelease = extra.get(`bad:${b.name}`);
    if (badRelease !== undefined) {
      b.bad = true;
      if (b.detail === undefined) b.detail = `BAD_RELEASE: ${badRelease.trim()}`;
    }
  }
  return { backups, recorded: rank };
}

/** Deployer's lock is held: exit 3, naming the file and what it says. */
export function deployLockHeld(deployTo: string, content: string): UserError {
  const file = path.posix.join(deployTo, '.dep', 'deploy.lock');
  return new UserError(`Deployer's lock ${file} is held (it says: ${JSON.stringify(content.trim())}): a deploy may be running`, {
    exitCode: ExitCode.LOCKED,
    code: 'DEPLOY_LOCKED',
    hint: `wait for the deploy to finish (dep deploy:unlock releases it), or pass --break-lock if no deploy is running`,
  });
}
