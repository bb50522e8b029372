/**
 * Spawn one process with execa (argv only, never a shell string), feed it stdin, capture stdout and
 * stderr up to a cap, report complete lines as they arrive, and enforce a timeout and an AbortSignal.
 *
 * The child runs in its own process group (`detached`), so a timeout or cancel kills everything it
 * started (a build's npm, a health check's curl), not just the `sh` at the top: SIGTERM to the group,
 * then SIGKILL if it is still there after a grace period. A cancelled call returns only once the whole
 * group is gone: a child that outlives the top process (it ignored SIGTERM) is killed after the grace.
 * With `holdStdin` (SSH), stdin stays open for the whole call and cancelling closes it first: the remote
 * watchdog (remote.ts) kills the remote command on that end of file.
 */
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { UserError } from '../errors.js';
import type { ExecOptions, ExecResult } from './types.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Time between SIGTERM and SIGKILL when a call times out or is cancelled. */
const KILL_GRACE_MS = 2000;
/** After a killed process exits, how long its pipes may still deliver buffered output. */
const STREAM_DRAIN_MS = 100;
/** With `holdStdin`: how long a cancelled call may take to end by itself once its stdin is closed (the
 * remote watchdog's SIGTERM, then its SIGKILL 2 s later, plus a round trip) before it is signalled. */
const STDIN_CLOSE_GRACE_MS = KILL_GRACE_MS + 1000;

/** Thrown when a call's AbortSignal fires: the operator (or the engine) cancelled it. */
export class ExecAbortedError extends UserError {
  constructor(what: string, cause?: unknown) {
    super(`cancelled: ${what}`, { code: 'ABORTED', cause });
    this.name = 'ExecAbortedError';
  }
}

export interface RunSpec {
  file: string;
  args: readonly string[];
  /** Exact stdin bytes ('' closes stdin at once). */
  input: string;
  /** For messages (what was cancelled). */
  what: string;
  env?: Record<string, string>;
  cwd?: string;
  /** Keep stdin open after `input` until the process exits; cancel by closing it (see above). */
  holdStdin?: boolean;
}

class Capture {
  private readonly chunks: string[] = [];
  private bytes = 0;
  truncated = false;
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(
    private readonly max: number,
    private readonly stream: 'stdout' | 'stderr',
    private readonly onLine: ExecOptions['onLine'],
  ) {}

  push(buf: Buffer): void {
    if (this.bytes < this.max) {
      const room = this.max - this.bytes;
      const kept = buf.length <= room ? buf : buf.subarray(0, room);
      if (kept.length < buf.length) this.truncated = true;
      this.bytes += kept.length;
      this.chunks.push(kept.toString('latin1'));
    } else if (buf.length > 0) {
      this.truncated = true;
    }
    if (this.onLine) {
      this.partial += this.decoder.write(buf);
      let nl = this.partial.indexOf('\n');
      while (nl >= 0) {
        this.emit(this.partial.slice(0, nl));
        this.partial = this.partial.slice(nl + 1);
        nl = this.partial.indexOf('\n');
      }
      // A runaway line without newlines must not grow without bound.
      if (this.partial.length > this.max) {
        this.emit(this.partial);
        this.partial = '';
      }
    }
  }

  private emit(line: string): void {
    try {
      this.onLine?.(line.endsWith('\r') ? line.slice(0, -1) : line, this.stream);
    } catch {
      // A failing display callback must not break the command it displays.
    }
  }

  finish(): string {
    if (this.onLine) {
      this.partial += this.decoder.end();
      if (this.partial.length > 0) this.emit(this.partial);
      this.partial = '';
    }
    // Bytes were kept as latin1 so a cut in the middle of a UTF-8 sequence cannot corrupt the rest.
    return Buffer.from(this.chunks.join(''), 'latin1').toString('utf8');
  }
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Is anything left in process group `pgid`, zombies aside? A zombie is dead, only not reaped yet, and in
 * a container whose init does not reap, an orphan stays one for good: on Linux /proc tells them apart.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  let pids: string[];
  try {
    pids = readdirSync('/proc');
  } catch {
    return true; // no /proc: take kill(0)'s word
  }
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may contain anything, so split after its last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

/** After a cancelled call's top process exited: wait (bounded) for the rest of its group, then SIGKILL it. */
async function reapGroup(pid: number | undefined): Promise<void> {
  if (pid === undefined || !groupAlive(pid)) return;
  killGroup(pid, 'SIGTERM');
  const deadline = performance.now() + KILL_GRACE_MS;
  while (groupAlive(pid)) {
    if (performance.now() >= deadline) {
      killGroup(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runProcess(spec: RunSpec, options: ExecOptions = {}): Promise<ExecResult> {
  const { signal } = options;
  if (signal?.aborted) throw new ExecAbortedError(spec.what, signal.reason);
  const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const out = new Capture(max, 'stdout', options.onLine);
  const err = new Capture(max, 'stderr', options.onLine);
  const started = performance.now();

  const child = execa(spec.file, [...spec.args], {
    ...(spec.holdStdin ? { stdin: 'pipe' as const } : { input: spec.input }),
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    detached: true,
    extendEnv: true,
    env: spec.env,
    cwd: spec.cwd,
    stripFinalNewline: false,
  });
  (child.stdout as Readable | null)?.on('data', (b: Buffer) => out.push(b));
  (child.stderr as Readable | null)?.on('data', (b: Buffer) => err.push(b));
  if (spec.holdStdin && child.stdin) {
    child.stdin.on('error', () => undefined); // EPIPE: the process is gone; its exit says why
    child.stdin.write(spec.input);
    child.once('exit', () => child.stdin?.destroy());
  }

  let timedOut = false;
  let aborted = false;
  let terminated = false;
  let termTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const signalGroup = (): void => {
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    killTimer.unref();
  };
  const terminate = (): void => {
    if (terminated) return;
    terminated = true;
    if (spec.holdStdin) {
      child.stdin?.end();
      termTimer = setTimeout(signalGroup, STDIN_CLOSE_GRACE_MS);
      termTimer.unref();
    } else {
      signalGroup();
    }
    // Once the process is gone, stop waiting for its pipes: something it started in another process
    // group may still hold them (an ssh ControlMaster keeps a multiplexed session's stdio until the
    // remote command ends). Output already received is kept.
    child.once('exit', () => {
      const drain = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, STREAM_DRAIN_MS);
      drain.unref();
    });
  };
  const timer =
    options.timeoutMs !== undefined && options.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          terminate();
        }, options.timeoutMs)
      : undefined;
  const onAbort = (): void => {
    aborted = true;
    terminate();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    const result = await child;
    if (terminated) {
      clearTimeout(termTimer);
      await reapGroup(child.pid);
    }
    if (aborted) throw new ExecAbortedError(spec.what, signal?.reason);
    if (result.failed && result.exitCode === undefined && !timedOut && result.signal === undefined) {
      // Could not be spawned at all (ENOENT, EACCES, bad cwd).
      const cause = result.cause instanceof Error ? result.cause.message : result.shortMessage;
      throw new UserError(`cannot run ${spec.file}: ${cause}`, {
        hint: `check that ${spec.file} is installed and on PATH`,
        code: 'SPAWN',
        cause: result.cause,
      });
    }
    let exitCode = result.exitCode ?? 1;
    if (result.exitCode === undefined && result.signal !== undefined) exitCode = 128 + signalNumber(result.signal);
    return {
      exitCode,
      stdout: out.finish(),
      stderr: err.finish(),
      durationMs: performance.now() - started,
      timedOut,
      truncated: out.truncated || err.truncated,
    };
  } finally {
    if (timer) clearTimeout(timer);
    if (termTimer) clearTimeout(termTimer);
    if (killTimer) clearTimeout(killTimer);
    signal?.removeEventListener('abort', onAbort);
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(sig: string): number {
  return SIGNALS[sig] ?? 15;
}

/** Wrap a script so the shell reads all of it before running anything: a command inside that reads
 * stdin (git, npm, a build tool) can neither eat the rest of the script nor hang waiting for input. */
export function wrapScript(script: string): string {
  if (script.includes('\0')) throw new Error('script contains a NUL byte');
  return `{\n${script}\n} </dev/null\n`;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function envEntries(options: ExecOptions): [string, string][] {
  const entries = Object.entries(options.env ?? {});
  for (const [k] of entries) {
    if (!ENV_NAME.test(k)) throw new Error(`invalid environment variable name ${JSON.stringify(k)}`);
  }
  return entries;
}

/** `export NAME=value` and `cd` lines for a script read by `sh -s`, values as quoted literals. */
function envAndCwd(options: ExecOptions, quote: (s: string) => string): string {
  let prefix = '';
  for (const [k, v] of envEntries(options)) prefix += `export ${k}=${quote(v)}\n`;
  if (options.cwd !== undefined) prefix += `cd -- ${quote(options.cwd)} || exit 1\n`;
  return prefix;
}

/** The full stdin of a `script()` call: exported env values and the `cd` as quoted literals, then the
 * wrapped script. Same text locally and over SSH. */
export function scriptInput(script: string, options: ExecOptions, quote: (s: string) => string): string {
  if (options.stdin !== undefined) {
    throw new Error('script(): options.stdin is not supported (the script itself is stdin); pass data as args');
  }
  return envAndCwd(options, quote) + wrapScript(script);
}

/** A `shell()` call as a script for `sh -s`: the same env and `cd` lines, then the config command
 * `eval`ed from a quoted literal. Locally and over SSH it goes on stdin, never into argv, so `ps` shows
 * neither the command (with its `${VAR}` values substituted) nor the env values. */
export function shellScript(command: string, options: ExecOptions, quote: (s: string) => string): string {
  return `${envAndCwd(options, quote)}eval ${quote(command)}\n`;
}

/**
 * The full stdin of a local `shell()` call: the shell script read whole before it runs, its own stdin
 * /dev/null, or the call's `stdin` data piped from the shell's `printf` builtin (no process, no argv).
 */
export function localShellInput(command: string, options: ExecOptions, quote: (s: string) => string): string {
  const body = shellScript(command, options, quote);
  if (options.stdin === undefined) return wrapScript(body);
  return `printf '%s' ${quote(options.stdin)} | {\n${body}\n}\n`;
}
