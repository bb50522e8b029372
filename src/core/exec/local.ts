/** Runs on this machine: `sh -s -- args` with the script on stdin, through execa (argv, no shell string). */
import { shQuote } from './quote.js';
import { runProcess, scriptInput, shellArgs } from './run.js';
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
      { file: 'sh', args: shellArgs(command, options), input: options.stdin ?? '', what: `\`${command}\`` },
      options,
    );
  }

  async close(): Promise<void> {
    // Nothing held open.
  }
}
