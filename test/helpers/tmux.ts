/**
 * tmux on a private socket: a real pseudo-terminal for the tests of interactive prompts. CI installs
 * tmux; elsewhere the suites that need it are skipped.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach } from 'vitest';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;
if (!hasTmux && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests (CI installs it)');

/** Run tmux commands against the server on `socket`; throws with tmux's stderr when one fails. */
export function tmuxOn(socket: string): (...args: string[]) => string {
  return (...args) => {
    const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
}

/** A process as /proc shows it: its parent, its start time (a pid can be reused) and whether it runs on. */
interface ProcEntry {
  pid: number;
  ppid: number;
  start: string;
  live: boolean;
}

function procEntry(pid: number): ProcEntry | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited (PID 1 here reaps late): it writes nothing more.
    return { pid, ppid: Number(f[1]), start: f[19] ?? '', live: f[0] !== 'Z' };
  } catch {
    return null;
  }
}

/** `roots` and every live process below them. */
function processTree(roots: number[]): ProcEntry[] {
  const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).flatMap((n) => procEntry(Number(n)) ?? []);
  const tree = all.filter((p) => roots.includes(p.pid) && p.live);
  for (let grew = true; grew; ) {
    const more = all.filter((p) => p.live && !tree.includes(p) && tree.some((t) => t.pid === p.ppid));
    tree.push(...more);
    grew = more.length > 0;
  }
  return tree;
}

const stillRunning = (tree: ProcEntry[]): ProcEntry[] =>
  tree.filter((p) => {
    const now = procEntry(p.pid);
    return now !== null && now.live && now.start === p.start;
  });

async function waitExited(tree: ProcEntry[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (stillRunning(tree).length > 0) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/**
 * Stop the server on `socket` (and every session in it; fine when none runs), and wait until what its
 * panes ran has exited: a console or CLI that gets the hang-up still writes its state on the way out
 * (and finishes a rollback step first), so its directory must not be removed before. SIGKILL to what
 * is left after `graceMs`.
 */
export async function killTmux(socket: string, graceMs = 30_000): Promise<void> {
  const panes = spawnSync('tmux', ['-L', socket, 'list-panes', '-a', '-F', '#{pane_pid}'], { encoding: 'utf8' });
  const roots = panes.status === 0 ? panes.stdout.split('\n').filter(Boolean).map(Number) : [];
  const tree = roots.length > 0 ? processTree(roots) : [];
  spawnSync('tmux', ['-L', socket, 'kill-server']);
  if (await waitExited(tree, graceMs)) return;
  for (const p of stillRunning(tree)) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  await waitExited(tree, graceMs);
}

/**
 * A tmux server of its own for one test file, killed after each test, plus whatever else a test asks
 * to clean up then (its fixture): `const { tmux, afterTest } = tmuxPerTest('rtui-confirm')`.
 */
export function tmuxPerTest(prefix: string): { socket: string; tmux: (...args: string[]) => string; afterTest: <T extends { cleanup(): Promise<void> }>(x: T) => T } {
  const socket = `${prefix}-${process.pid}`;
  const pending: { cleanup(): Promise<void> }[] = [];
  afterEach(async () => {
    await killTmux(socket);
    for (const x of pending.splice(0)) await x.cleanup();
  });
  return {
    socket,
    tmux: tmuxOn(socket),
    afterTest: (x) => {
      pending.push(x);
      return x;
    },
  };
}
