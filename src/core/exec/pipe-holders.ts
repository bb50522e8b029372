/**
 * Processes that still hold a child's stdio after the child is gone or killed: a command that starts a
 * detached helper (`setsid sleep 15 &`) leaves it in another session and process group, out of reach
 * of a group kill, yet holding the pipes (Node's stdio are socket pairs) the command was given. On
 * Linux, /proc tells who holds which end: the child's own descriptors name the inodes at spawn time,
 * and at the deadline every process holding one of them can be found and killed. Elsewhere (no /proc)
 * both functions find nothing, and the caller only lets go of its own ends.
 */
import { readdirSync, readlinkSync } from 'node:fs';

/** The inodes behind `pid`'s descriptors `fds` ("socket:[123]", "pipe:[456]"), read right after spawn. */
export function stdioInodes(pid: number | undefined, fds: readonly number[]): string[] {
  if (pid === undefined) return [];
  const found: string[] = [];
  for (const fd of fds) {
    try {
      const link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (/^(?:socket|pipe):\[\d+\]$/.test(link)) found.push(link);
    } catch {
      // Exited already, or no /proc: nothing to track.
    }
  }
  return found;
}

/** Pids (other than this process) holding any of `inodes`. Processes we may not inspect are skipped. */
export function holdersOf(inodes: readonly string[]): number[] {
  if (inodes.length === 0) return [];
  const wanted = new Set(inodes);
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return [];
  }
  const holders: number[] = [];
  for (const pid of pids) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone meanwhile, or another user's
    }
    for (const fd of fds) {
      let link: string;
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (wanted.has(link)) {
        holders.push(Number(pid));
        break;
      }
    }
  }
  return holders;
}

/** SIGKILL the process group of `pid` (the child and all it started there), then every holder of `inodes`. */
export function killGroupAndHolders(pid: number | undefined, inodes: readonly string[]): void {
  if (pid !== undefined) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const holder of holdersOf(inodes)) {
    try {
      process.kill(holder, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}
