/**
 * How rollback-tui runs things on the machine that holds the releases. One interface, two
 * implementations (LocalExecutor with execa, SshExecutor through the system OpenSSH client), so every
 * store, state and engine operation runs the same way locally and remotely.
 */

export interface ExecOptions {
  /** Data written to the process's stdin (scripts are sent this way: `sh -s -- args`). */
  stdin?: string;
  /**
   * Kill the command after this long, with everything it started (its process group; over SSH the
   * remote session's, see remote.ts); the result then has `timedOut: true`.
   */
  timeoutMs?: number;
  /** Cancels the same way (the call then rejects with ExecAbortedError). */
  signal?: AbortSignal;
  /** Cap on captured stdout/stderr each (default 4 MiB); beyond it output is dropped and `truncated` set. */
  maxOutputBytes?: number;
  /** Called with each complete output line as it arrives (live output in the console). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Extra environment variables for the command (passed safely, never spliced into a command line). */
  env?: Record<string, string>;
  /** Working directory on the executing host. */
  cwd?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
  truncated: boolean;
}

export interface Executor {
  readonly kind: 'local' | 'ssh';
  /** For messages: "local" or "deploy@app-1:22". */
  readonly description: string;
  /**
   * Run a POSIX sh script with positional arguments: the script goes on stdin (`sh -s -- arg...`), each
   * argument is passed as data (quoted for the remote shell over SSH). Never builds a command line from
   * input. Throws TransportError when an SSH connection cannot be made (exit 255).
   */
  script(script: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /**
   * Run an operator-configured command line from the config file (service.start, health command, ...)
   * with `sh`, the command on stdin (never in argv, so `ps` shows no secrets). Only for trusted config
   * strings; anything from input goes in `options.env`.
   */
  shell(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Close multiplexed connections and temporary files. Idempotent. */
  close(): Promise<void>;
}
