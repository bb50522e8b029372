/** Watching processes by command line (the loopback "remote" runs on this machine too). */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/** Live (non-zombie) processes whose command line contains `needle`: "STAT PID ARGS" lines. */
export function running(needle: string): string[] {
  return execFileSync('ps', ['-eo', 'stat=,pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && !l.trimStart().startsWith('Z'));
}

/** The pid of a line from running(). */
export function pidOf(line: string): number {
  return Number(line.trim().split(/\s+/)[1]);
}

export async function until(check: () => boolean, what: string, ms = 15_000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Generous deadlines: a kill over SSH goes through the host's watchdog (SIGTERM, SIGKILL 2 s later),
// and on a loaded machine every step of that is late; a wait ends as soon as its condition holds.
export const waitRunning = (needle: string, ms = 30_000): Promise<void> =>
  until(() => running(needle).length > 0, `${needle} to start`, ms);

export const waitGone = (needle: string, ms = 30_000): Promise<void> =>
  until(() => running(needle).length === 0, `${needle} to be gone`, ms, () => running(needle).join('\n'));

/**
 * A `sleep` whose command line no other process has (GNU sleep takes fractions). Far longer than any
 * wait for it to be gone: one that ends by itself never passes for one that was killed.
 */
export function uniqueSleep(): string {
  return `sleep 299.${randomInt(1e8, 1e9)}`;
}
