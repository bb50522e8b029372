/**
 * Runs on a remote host through the system OpenSSH client, so ~/.ssh/config, aliases, the agent,
 * ProxyJump, certificates and known_hosts work as the operator expects.
 *
 * - The remote command line is always `sh -s -- 'arg' ...` (each argument through shQuote); everything
 *   else goes on stdin: the script, or for `shell()` the config command as a quoted literal with its env
 *   and cwd, and the call's `stdin` data.
 * - That stdin is wrapped (remote.ts) in a watchdog, and held open for the whole call: a timeout or cancel
 *   closes it and the remote command's process group is killed, as is everything it started; so are
 *   commands still running when the ssh client, its master or the connection go away.
 * - One multiplexed connection per process: ControlMaster=auto, ControlPersist, ControlPath in a private
 *   0700 temp directory. `close()` runs `ssh -O exit` and removes the directory.
 * - Unless the operator multiplexes connections themselves (ssh-mux.ts: `ControlMaster auto` and a
 *   `ControlPath` in their ssh configuration): then the calls go through the operator's master, as
 *   plain `ssh` would, a master that exists is reused with no handshake, and `close()` leaves it to the
 *   operator's ControlPersist (it ends the calls still running instead).
 * - `connect()` opens that master early, in the background (`ssh -f -N`), so its handshake overlaps the
 *   caller's own work (the rest of the configuration, loading the engine); calls made meanwhile wait
 *   for it and reuse it instead of each starting a handshake of its own.
 * - Exit 255 is a TransportError with the reason from ssh's stderr, unless the wrapper had started (it
 *   prints a per-call marker first): then the 255 is the command's own and is returned like any exit.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SshExecutorConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { TransportError } from './errors.js';
import { shQuote } from './quote.js';
import { remoteInput } from './remote.js';
import { runProcess, scriptInput, shellScript } from './run.js';
import { mayMultiplex, operatorMultiplexing, useOperatorSocket, type OperatorMultiplexing } from './ssh-mux.js';
import type { ExecOptions, ExecResult, Executor } from './types.js';

/** How long an idle master connection outlives its last use (also bounds a leak if we crash). */
const CONTROL_PERSIST_SECONDS = 120;
const OPTION_KEY = /^[A-Za-z][A-Za-z0-9]*$/;
/** ssh exits 255 when the connection (not the remote command) fails. */
export const SSH_TRANSPORT_EXIT = 255;

export class SshExecutor implements Executor {
  readonly kind = 'ssh' as const;
  readonly description: string;
  private readonly cfg: SshExecutorConfig;
  private controlDir: string | null = null;
  private closed = false;
  /** The early master connection (connect()) while it is being made: resolves to its failure, if any. */
  private connecting: Promise<TransportError | null> | null = null;
  private readonly connectAbort = new AbortController();
  /** Reading the operator's multiplexing (once); `mux` is set when the calls go through their socket. */
  private muxRead: Promise<void> | null = null;
  private mux: OperatorMultiplexing | null = null;
  /** Ends the calls in flight when closed while on the operator's master (which close() leaves up). */
  private readonly callsAbort = new AbortController();

  constructor(cfg: SshExecutorConfig) {
    if (!cfg.host || cfg.host.startsWith('-')) {
      throw new UserError(`invalid ssh host ${JSON.stringify(cfg.host)}: a host must not be empty or start with "-"`, {
        hint: 'set environments.<name>.executor.host to a host name or ssh_config alias',
        code: 'CONFIG',
      });
    }
    if (cfg.user !== undefined && (cfg.user.startsWith('-') || /[\s@]/.test(cfg.user))) {
      throw new UserError(`invalid ssh user ${JSON.stringify(cfg.user)}`, { code: 'CONFIG' });
    }
    for (const [k, v] of Object.entries(cfg.options ?? {})) {
      if (!OPTION_KEY.test(k) || /[\r\n\0]/.test(String(v))) {
        throw new UserError(`invalid ssh option ${JSON.stringify(k)}=${JSON.stringify(v)}`, {
          hint: 'executor.options is a map of ssh_config keywords to single-line values',
          code: 'CONFIG',
        });
      }
    }
    this.cfg = cfg;
    this.description = `${cfg.user ? `${cfg.user}@` : ''}${cfg.host}${cfg.port !== undefined ? `:${cfg.port}` : ''}`;
  }

  /** The private control directory (created on first use). */
  private dir(): string {
    if (this.closed) throw new Error(`ssh executor for ${this.description} is closed`);
    this.controlDir ??= mkdtempSync(path.join(os.tmpdir(), 'rtui-ssh-'));
    return this.controlDir;
  }

  /** ssh options (everything before `--`). */
  sshArgs(): string[] {
    return this.baseArgs(this.mux ? null : this.dir());
  }

  /** With `controlDir` null, no multiplexing options: the operator's configuration decides. */
  private baseArgs(controlDir: string | null): string[] {
    const c = this.cfg;
    const args: string[] = [];
    if (c.ssh_config) args.push('-F', c.ssh_config);
    if (c.identity_file) args.push('-i', c.identity_file);
    if (c.port !== undefined) args.push('-p', String(c.port));
    if (c.user) args.push('-l', c.user);
    // ssh uses the first value it sees for an option: the non-negotiable ones come first.
    args.push('-T', '-o', 'BatchMode=yes');
    if (controlDir !== null) {
      args.push(
        '-o', 'ControlMaster=auto',
        '-o', `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
        // One destination per executor and a private dir: a short fixed name keeps the socket path under
        // the 104-108 byte Unix limit even with a long TMPDIR (macOS), where %C's 40-char hash may not.
        '-o', `ControlPath=${path.join(controlDir, 'm')}`,
      );
    }
    for (const [k, v] of Object.entries(c.options ?? {})) {
      args.push('-o', `${k}=${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`);
    }
    args.push(
      '-o', `ConnectTimeout=${Math.max(1, Math.ceil(c.connect_timeout_seconds ?? 10))}`,
      '-o', 'ServerAliveInterval=15',
      '-o', 'ServerAliveCountMax=3',
    );
    return args;
  }

  /**
   * Open the master connection now, in the background, and return at once. The next calls wait for it:
   * when it failed, those waiting calls fail with its TransportError (the same message a call's own
   * failed connection gives, without a second connect timeout); later calls connect by themselves as
   * before. Idempotent; no-op once closed.
   */
  connect(): void {
    if (this.connecting || this.closed) return;
    this.connecting = this.openMaster().catch(
      // Cancelled by close(), or ssh could not be spawned: the calls themselves report that.
      () => null,
    );
  }

  private async openMaster(): Promise<TransportError | null> {
    await this.readMultiplexing();
    // The operator's master is up: nothing to open.
    if (this.closed || (this.mux && existsSync(this.mux.controlPath))) return null;
    const connectTimeoutS = Math.max(1, Math.ceil(this.cfg.connect_timeout_seconds ?? 10));
    // -f: the client returns once authenticated, leaving the ControlPersist master in the background.
    const args = [...this.sshArgs(), '-f', '-N', '--', this.cfg.host];
    const r = await runProcess(
      { file: 'ssh', args, input: '', what: `connecting to ${this.description}` },
      // Authentication after the TCP connect is bounded too (BatchMode never prompts, but a server can stall).
      { signal: this.connectAbort.signal, timeoutMs: (connectTimeoutS + 10) * 1000 },
    );
    if (r.exitCode === 0) return null;
    const reason = r.timedOut ? `no answer within ${connectTimeoutS + 10} s` : transportReason(r.stderr);
    return new TransportError(this.description, reason, this.manualCommand());
  }

  /** Whether the operator multiplexes this host themselves (read once, before the first connection). */
  private readMultiplexing(): Promise<void> {
    if (this.muxRead) return this.muxRead;
    // No configuration that could multiplex (the usual case): nothing to ask ssh.
    this.muxRead = !mayMultiplex(this.cfg)
      ? Promise.resolve()
      : operatorMultiplexing(this.baseArgs(null), this.cfg.host, this.connectAbort.signal).then((mux) => {
          if (mux && useOperatorSocket(mux)) this.mux = mux;
        });
    return this.muxRead;
  }

  /** Wait for an early connection in progress; throw its failure to the calls that waited for it. */
  private async connected(): Promise<void> {
    const pending = this.connecting;
    if (!pending) return;
    const failure = await pending;
    if (this.connecting === pending) this.connecting = null;
    if (failure) throw failure;
  }

  /** What to tell the operator to try by hand. */
  private manualCommand(): string {
    const parts = ['ssh'];
    if (this.cfg.ssh_config) parts.push('-F', this.cfg.ssh_config);
    if (this.cfg.identity_file) parts.push('-i', this.cfg.identity_file);
    if (this.cfg.port !== undefined) parts.push('-p', String(this.cfg.port));
    parts.push(this.cfg.user ? `${this.cfg.user}@${this.cfg.host}` : this.cfg.host);
    return parts.join(' ');
  }

  /** Run `remoteCommand` (an `sh -s` line) with `body` as its script, wrapped by remoteInput(). */
  private async run(remoteCommand: string, body: string, what: string, options: ExecOptions): Promise<ExecResult> {
    await this.readMultiplexing();
    await this.connected();
    const marker = `rollback-tui-started-${randomBytes(8).toString('hex')}`;
    const input = remoteInput(body, { marker, timeoutMs: options.timeoutMs, stdin: options.stdin });
    let markerSeen = false;
    const { onLine } = options;
    const runOptions: ExecOptions = {
      ...options,
      // A signal of its own per call: the call's listener never accumulates on the executor's.
      signal: AbortSignal.any(options.signal ? [options.signal, this.callsAbort.signal] : [this.callsAbort.signal]),
    };
    if (onLine) {
      runOptions.onLine = (line, stream) => {
        if (!markerSeen && stream === 'stderr' && line === marker) markerSeen = true;
        else onLine(line, stream);
      };
    }
    const args = [...this.sshArgs(), '--', this.cfg.host, remoteCommand];
    const result = await runProcess({ file: 'ssh', args, input, what: `${what} on ${this.description}`, holdStdin: true }, runOptions);
    const at = result.stderr.indexOf(`${marker}\n`);
    if (at >= 0) {
      result.stderr = result.stderr.slice(0, at) + result.stderr.slice(at + marker.length + 1);
    } else if (result.exitCode === SSH_TRANSPORT_EXIT && !result.timedOut) {
      throw new TransportError(this.description, transportReason(result.stderr), this.manualCommand());
    }
    return result;
  }

  script(script: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    const remote = ['sh', '-s', '--', ...args.map(shQuote)].join(' ');
    return this.run(remote, scriptInput(script, options, shQuote), 'script', options);
  }

  shell(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.run('sh -s', shellScript(command, options, shQuote), `\`${command}\``, options);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // An early connection still being made is cancelled; one that got through is ended by `-O exit`.
    this.connectAbort.abort();
    // The operator's master stays up for them: the calls still running through it are ended here.
    if (this.mux) this.callsAbort.abort(new Error(`the ssh connection to ${this.description} was closed`));
    await Promise.all([this.connecting, this.muxRead]);
    const dir = this.controlDir;
    if (dir === null) return;
    try {
      const args = this.baseArgs(dir);
      await runProcess(
        { file: 'ssh', args: [...args, '-O', 'exit', '--', this.cfg.host], input: '', what: 'closing ssh' },
        { timeoutMs: 5000 },
      );
    } catch {
      // Best effort: ControlPersist ends an orphaned master anyway.
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** "ssh: connect to host 10.0.0.1 port 22: Connection refused" -> "Connection refused". */
export function transportReason(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('Warning: Permanently added'));
  const line = lines.at(-1) ?? 'ssh exited 255 without a message';
  const m = /^ssh: connect to host .* port \d+: (.*)$/.exec(line);
  if (m?.[1]) return m[1];
  return line.replace(/^ssh: /, '').replace(/\.$/, '');
}
