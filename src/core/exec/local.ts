/**
 * Runs on this machine: `sh -s -- args` with the script on stdin, through execa (argv, no shell string).
 * Configured commands go on stdin too (`sh -s`), as over SSH: their `${VAR}` values and env values never
 * appear in the process list.
 */
import { shQuote } from './quote.js';
import { localShellInput, runProcess, scriptInput } from './run.js';
import type { ExecOptions, ExecResult, Executor } from './types.js';

export class LocalExecutor implements Executor {
  readonly kind = 'local' as const;
  readonly description = 'local';

  script(script: string, args: readonly string[] = [], options: ExecOptions = {}): Promise<ExecResult> {
    for (const a of args) if (a.includes('\0')) throw new Error('script argument contains a NUL byte');
    return runProcess(
      { file: 'sh', args: ['-s', '--', ...args], input: scriptInput(script, options, shQuote), what: 'local script' },
      options,
    );
  }

  shell(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return runProcess(
      { file: 'sh', args: ['-s'], input: localShellInput(command, options, shQuote), what: `\`${command}\`` },
      options,
    );
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
