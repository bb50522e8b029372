/**
 * Whether a rollback runs in this process now, for the launcher's closed-pipe handling (bin/): exiting on
 * EPIPE in the middle of a rollback would leave the service half-switched. The engine keeps the count;
 * it is loaded only by the commands that can roll back, which hand its probe over here once loaded, so
 * the launcher need not load the engine to ask.
 */
let probe: () => boolean = () => false;

/** Called by every command that loads the rollback engine, before it runs anything. */
export function trackRollbacks(inProgress: () => boolean): void {
  probe = inProgress;
}

export function rollbackInProgress(): boolean {
  return probe();
}
