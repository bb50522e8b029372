/** Wraps an Executor and counts round trips (script/shell calls): "one round trip" assertions. */
import type { ExecOptions, ExecResult, Executor } from '../../src/core/exec/types.js';

export class CountingExecutor implements Executor {
  calls = 0;
  constructor(readonly inner: Executor) {}
  get kind(): 'local' | 'ssh' {
    return this.inner.kind;
  }
  get description(): string {
    return this.inner.description;
  }
  script(script: string, args?: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    return this.inner.script(script, args, options);
  }
  shell(command: string, options?: ExecOptions): Promise<ExecResult> {
    this.calls++;
    return this.inner.shell(command, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
