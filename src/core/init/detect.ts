/**
 * What `init` finds at a deploy directory, in one script run through the executor (locally or over SSH):
 * the layout (Capistrano, Deployer, generic releases/ + current, or a backups folder of this tool), the
 * service (a systemd unit whose WorkingDirectory or ExecStart points into the directory, read with
 * `systemctl cat`; a Procfile in the live release) and the ports that service listens on (`ss -ltnp`,
 * matched to processes whose working directory or command line is inside the directory).
 *
 * A finding is "confirmed" only when it can be relied on as written: a unit systemd itself returns, a
 * port a process of this deployment listens on. Everything else is a suggestion (written commented out).
 */
import path from 'node:path';
import type { ReleaseLayoutName } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { Executor } from '../exec/types.js';
import { nulTokens, runStoreScript } from '../stores/common.js';

const DETECT_SCRIPT = `
dir=$1
[ -d "$dir" ] || exit 20
cd -- "$dir" || exit 20
phys=$(pwd -P)
printf 'P\\0%s\\0' "$phys"
for m in releases .dep repo shared; do [ -d "$m" ] && printf 'H\\0%s\\0' "$m"; done
[ -f revisions.log ] && printf 'H\\0revisions.log\\0'
[ -L current ] && printf 'C\\0%s\\0' "$(readlink -- current)"
if [ -d releases ]; then for r in releases/*; do [ -d "$r" ] && [ ! -L "$r" ] && printf 'R\\0%s\\0' "\${r#releases/}"; done; fi
for b in backup_*; do [ -d "$b" ] && [ ! -L "$b" ] && printf 'B\\0%s\\0' "$b"; done
parent=$(dirname -- "$phys")
for l in "$parent"/* "$phys"/*; do
  [ -L "$l" ] || continue
  t=$(cd -P -- "$l" 2>/dev/null && pwd -P) || continue
  case $t in "$phys"/*) printf 'Y\\0%s\\0' "$l" ;; esac
done
live=current; [ -L current ] || live=
if [ -n "$live" ] && [ -f "$live/Procfile" ]; then printf 'F\\0'; head -c 4000 -- "$live/Procfile" | tr '\\000' ' '; printf '\\0'; fi
scan_units() {
  [ -d "$2" ] || return 0
  for f in "$2"/*.service; do
    [ -f "$f" ] || continue
    grep -q -s -F -e "$dir" -e "$phys" -- "$f" || continue
    u=\${f##*/}
    if [ "$1" = user ]; then c=$(systemctl --user cat -- "$u" 2>/dev/null) && ok=1 || ok=0
    else c=$(systemctl cat -- "$u" 2>/dev/null) && ok=1 || ok=0; fi
    [ "$ok" = 1 ] || c=$(head -c 8000 -- "$f")
    printf 'U\\0%s\\0%s\\0%s\\0%s\\0' "$1" "$u" "$ok" "$(printf '%s' "$c" | tr '\\000' ' ')"
  done
}
for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /usr/lib/systemd/system /lib/systemd/system; do scan_units system "$d"; done
[ -n "\${HOME:-}" ] && scan_units user "$HOME/.config/systemd/user"
if command -v ss >/dev/null 2>&1; then
  ss -ltnpH 2>/dev/null | while IFS= read -r line; do
    addr=$(printf '%s\\n' "$line" | awk '{print $4}')
    for pid in $(printf '%s\\n' "$line" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
      cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null) || cwd=
      cmd=$(tr '\\000' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || cmd=
      hit=
      case "$cwd/" in "$phys"/*|"$dir"/*) hit=1 ;; esac
      case " $cmd" in *"$phys"/*|*"$dir"/*) hit=1 ;; esac
      [ -n "$hit" ] && printf 'T\\0%s\\0%s\\0%s\\0' "$addr" "$pid" "$cmd"
    done
  done
fi
exit 0
`;

export interface DetectedUnit {
  scope: 'system' | 'user';
  name: string;
  /** `systemctl cat` returned it: systemd manages this unit here. */
  confirmed: boolean;
  workingDirectory: string | null;
  execStart: string | null;
}

export interface DetectedPort {
  host: string;
  port: number;
  pid: number;
  command: string;
}

export type DetectedLayout =
  | { kind: 'capistrano' | 'deployer'; deployTo: string }
  | { kind: 'releases'; backupsDir: string; current: string; pattern: string }
  | { kind: 'backups'; backupsDir: string; current: string };

export interface Detection {
  dir: string;
  layout: DetectedLayout;
  /** Release (or backup) names found, for the summary. */
  releases: string[];
  live: string | null;
  /** A unit pointing into the live release (WorkingDirectory or ExecStart), confirmed ones first. */
  unit: DetectedUnit | null;
  procfile: { process: string; command: string } | null;
  ports: DetectedPort[];
}

function unitField(text: string, key: string): string | null {
  let value: string | null = null;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^\\s*${key}\\s*=\\s*(.*)$`).exec(line);
    if (m) value = (m[1] ?? '').trim(); // later lines (drop-ins) win
  }
  return value;
}

function parseAddress(addr: string): { host: string; port: number } | null {
  const m = /^(.*):(\d+)$/.exec(addr);
  if (!m) return null;
  const raw = (m[1] ?? '').replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const host = raw === '*' || raw === '0.0.0.0' || raw === '::' || raw === '' ? '127.0.0.1' : raw === '::1' ? '::1' : raw;
  return { host, port: Number(m[2]) };
}

/** The layout from the directory's markers. */
function layoutOf(dir: string, marks: Set<string>, currentLink: string | null, releases: string[], backups: string[], links: string[]): DetectedLayout | null {
  const kind: ReleaseLayoutName | null = marks.has('releases') && currentLink !== null
    ? marks.has('.dep') ? 'deployer' : marks.has('revisions.log') || marks.has('repo') || releases.every((r) => /^\d{14}$/.test(r)) ? 'capistrano' : null
    : null;
  if (kind) return { kind, deployTo: dir };
  if (marks.has('releases') && currentLink !== null) {
    return { kind: 'releases', backupsDir: path.posix.join(dir, 'releases'), current: path.posix.join(dir, 'current'), pattern: '*' };
  }
  if (backups.length > 0 && links[0]) return { kind: 'backups', backupsDir: dir, current: links[0] };
  return null;
}

export async function detectDeployment(executor: Executor, dir: string, options: { signal?: AbortSignal } = {}): Promise<Detection> {
  const r = await runStoreScript(executor, `looking at ${dir}`, DETECT_SCRIPT, [dir], options, {
    20: () => new UserError(`${dir} is not a directory on ${executor.description}`, {
      code: 'INIT_NO_DIR',
      hint: 'pass --path with the deploy directory (Capistrano deploy_to, Deployer deploy_path, or a backups folder)',
    }),
  });
  const t = nulTokens(r.stdout);
  const marks = new Set<string>();
  const releases: string[] = [];
  const backups: string[] = [];
  const links: string[] = [];
  const units: DetectedUnit[] = [];
  const ports: DetectedPort[] = [];
  let currentLink: string | null = null;
  let procfile: Detection['procfile'] = null;
  for (let i = 0; i < t.length; ) {
    const tag = t[i++];
    const next = (): string => t[i++] ?? '';
    switch (tag) {
      case 'P': next(); break;
      case 'H': marks.add(next()); break;
      case 'C': currentLink = next(); break;
      case 'R': releases.push(next()); break;
      case 'B': backups.push(next()); break;
      case 'Y': links.push(next()); break;
      case 'F': {
        const line = next().split('\n').map((l) => /^([A-Za-z0-9_-]+):\s*(.+)$/.exec(l.trim())).find((m) => m);
        if (line) procfile = { process: line[1]!, command: line[2]! };
        break;
      }
      case 'U': {
        const scope = next() === 'user' ? 'user' : 'system';
        const name = next();
        const confirmed = next() === '1';
        const text = next();
        units.push({ scope, name, confirmed, workingDirectory: unitField(text, 'WorkingDirectory'), execStart: unitField(text, 'ExecStart') });
        break;
      }
      case 'T': {
        const a = parseAddress(next());
        const pid = Number(next());
        const command = next().trim();
        if (a && !ports.some((p) => p.port === a.port)) ports.push({ ...a, pid, command });
        break;
      }
      default:
        throw new Error(`unexpected detection output near ${JSON.stringify(String(tag).slice(0, 40))}`);
    }
  }
  const layout = layoutOf(dir, marks, currentLink, releases, backups, links);
  if (!layout) {
    throw new UserError(`no releases found at ${dir} on ${executor.description}: neither releases/ with a current symlink (Capistrano, Deployer) nor backup_* folders with a symlink pointing into them`, {
      code: 'INIT_NOTHING_FOUND',
      hint: 'pass --path with the directory that holds releases/ and current (Capistrano deploy_to, Deployer deploy_path)',
    });
  }
  const current = 'deployTo' in layout ? path.posix.join(dir, 'current') : layout.current;
  const pointsIn = (u: DetectedUnit): boolean =>
    [u.workingDirectory, u.execStart].some((v) => v !== null && (v.includes(current) || v.includes(`${dir}/`)));
  const unit = units.filter(pointsIn).sort((a, b) => Number(b.confirmed) - Number(a.confirmed))[0] ?? null;
  const live = currentLink === null ? null : path.posix.basename(currentLink);
  return { dir, layout, releases: layout.kind === 'backups' ? backups : releases, live, unit, procfile, ports: ports.sort((a, b) => a.port - b.port) };
}
