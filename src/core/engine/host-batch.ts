/**
 * Several steps of a run in one round trip to the host: the preflight (lock, journal, target check) and
 * the record (history, incident report, journal, lock) each go as ONE sh script over SSH. The script
 * prints a marker line `@@step <step> ok|held|failed [code]` after each step and stops at the first that
 * is not ok; markers are read as they arrive, so each step still has its own status, time and progress
 * events. On this machine the state file steps run in-process instead (no shell for local bookkeeping)
 * and the rest (the store's check and live read) go as one script.
 *
 * A read that is no step of its own (`live`: the live release, read again under the lock) goes in the
 * same script without events.
 *
 * The test pause hook (ROLLBACK_TUI_TEST_PAUSE_AT) stays meaningful: before the first step of a batch it
 * pauses in this process; before a later step the script itself pauses on the host, at the same point
 * of the sequence (the journal already names the step).
 */
import type { ExecResult } from '../exec/types.js';
import { STATE_FUNCTIONS } from '../state/state-script.js';
import { failureOf, lastLine, pauseFragment, type Failure, type Run } from './run.js';
import type { StepName } from './types.js';

/**
 * A step's outcome: done, failed, or undecided (the lock was found held, or could not be created: the
 * caller takes the step-by-step path, which says who holds it, breaks a stale one on request, or goes on
 * without the state_dir in a confirmed emergency).
 */
export type BatchOutcome = 'ok' | { skipped: string } | 'undecided' | Failure;

export interface BatchOp {
  /** The step, or `live`: a read with no step of its own (no events, no pause). */
  step: StepName | 'live';
  /** The journal names this step before it runs, written by this process (else the script wrote it, or none is needed). */
  journalStart?: boolean;
  /** Work in this process before the step's own (timed as part of it): before `fragment()` or `here()`. */
  prepare?(): Promise<void>;
  /**
   * The step as sh lines for the host's script: it ends by calling `mark <step> ok`, or `mark <step>
   * failed|held [code]` followed by `exit 0`.
   */
  fragment(): string;
  /** The step in this process (local executor); without it, the step goes in the script locally too. */
  here?(): Promise<BatchOutcome>;
  /** After its `ok` marker, with the stdout the step printed before it: the rest of the step (or its failure). */
  passed?(stdout: string): Promise<'ok' | { skipped: string } | Failure>;
  /**
   * After a `failed`/`held` marker, or none (the script died: `r` says how, or `thrown` when the
   * executor could not run it), with the script's whole result.
   */
  failed(status: string, code: number, r: ExecResult | null, thrown: Failure | null): BatchOutcome;
}

export interface BatchResult {
  outcomes: Map<StepName | 'live', BatchOutcome>;
  /** A step ended undecided: its start, for the caller to end it. */
  openStep?: { step: StepName; t0: number };
}

/** Step events of an op (none for a read with no step of its own). */
async function started(run: Run, op: BatchOp, options: { journalled: boolean; paused?: boolean }): Promise<number> {
  return op.step === 'live' ? Date.now() : run.stepStarted(op.step, options);
}

async function ended(run: Run, op: BatchOp, t0: number, outcome: 'ok' | { skipped: string } | Failure): Promise<void> {
  if (op.step !== 'live') await run.stepEnded(op.step, t0, outcome, { journalled: true });
}

const MARK = `mark() { printf '\\n@@step %s\\n' "$*"; }\n`;
const MARKER = /^@@step (\S+) (ok|held|failed)(?: (\d+))?$/;


const BATCH_TIMEOUT_MS = 120_000;

export async function runBatch(run: Run, ops: readonly BatchOp[]): Promise<BatchResult> {
  if (run.h.executor.kind !== 'local') return runOnHost(run, ops);
  const inProcess = ops.findIndex((op) => !op.here);
  const here = await runHere(run, inProcess < 0 ? ops : ops.slice(0, inProcess));
  if (inProcess < 0 || here.openStep || [...here.outcomes.values()].some(failed)) return here;
  const rest = await runOnHost(run, ops.slice(inProcess));
  return { ...rest, outcomes: new Map([...here.outcomes, ...rest.outcomes]) };
}

async function runHere(run: Run, ops: readonly BatchOp[]): Promise<BatchResult> {
  const outcomes: BatchResult['outcomes'] = new Map();
  for (const op of ops) {
    const t0 = await started(run, op, { journalled: !op.journalStart });
    const outcome = await (op.prepare?.() ?? Promise.resolve()).then(() => op.here!()).catch(failureOf);
    outcomes.set(op.step, outcome);
    if (outcome === 'undecided' && op.step !== 'live') return { outcomes, openStep: { step: op.step, t0 } };
    if (outcome !== 'undecided') await ended(run, op, t0, outcome);
    if (failed(outcome)) break;
  }
  return { outcomes };
}

async function runOnHost(run: Run, ops: readonly BatchOp[]): Promise<BatchResult> {
  const outcomes: BatchResult['outcomes'] = new Map();
  const first = ops[0];
  if (!first) return { outcomes };
  let index = 0;
  let t0 = await started(run, first, { journalled: !first.journalStart });
  let stdout: string[] = [];
  let stopped = false;
  /** Markers are handled in order, each after the previous one's events. */
  let chain: Promise<void> = Promise.resolve();
  /** `out`: what the step printed before its marker (taken as the marker arrives, before later lines). */
  const onOk = async (out: string): Promise<void> => {
    const op = ops[index]!;
    const outcome = op.passed ? await op.passed(out).catch(failureOf) : 'ok';
    outcomes.set(op.step, outcome);
    await ended(run, op, t0, outcome);
    const next = ops[index + 1];
    if (failed(outcome) || !next) {
      stopped = true;
      return;
    }
    index++;
    t0 = await started(run, next, { journalled: true, paused: true });
  };
  for (const op of ops) await op.prepare?.();
  const script = STATE_FUNCTIONS + MARK + ops.map((op, i) => (i > 0 && op.step !== 'live' ? pauseFragment(op.step) : '') + op.fragment()).join('\n');
  let r: ExecResult | null = null;
  let thrown: Failure | null = null;
  const markers: { step: string; status: string; code: number }[] = [];
  try {
    r = await run.h.executor.script(script, [], {
      timeoutMs: BATCH_TIMEOUT_MS,
      onLine: (line, stream) => {
        if (stream !== 'stdout') return;
        const m = MARKER.exec(line);
        if (!m) {
          if (line !== '') stdout.push(line);
          return;
        }
        markers.push({ step: m[1]!, status: m[2]!, code: Number(m[3] ?? 0) });
        const out = stdout.join('\n');
        stdout = [];
        if (m[2] === 'ok') chain = chain.then(() => onOk(out));
      },
    });
  } catch (err) {
    thrown = failureOf(err);
  }
  await chain;
  if (stopped) return { outcomes };
  // The step in progress did not pass: its marker says why, or the script ended without one.
  const op = ops[index]!;
  const marker = markers.find((m) => m.step === op.step && m.status !== 'ok');
  const outcome = op.failed(marker?.status ?? 'failed', marker ? marker.code : (r?.exitCode ?? 1), r && withoutMarkers(r), thrown);
  outcomes.set(op.step, outcome);
  if (outcome === 'undecided' && op.step !== 'live') return { outcomes, openStep: { step: op.step, t0 } };
  if (outcome !== 'undecided') await ended(run, op, t0, outcome);
  return { outcomes };
}

function failed(outcome: BatchOutcome): boolean {
  return outcome !== 'ok' && !(typeof outcome === 'object' && 'skipped' in outcome);
}

/** The failure an outcome stands for, if it is one. */
export function failureIn(outcome: BatchOutcome | undefined): Failure | null {
  return typeof outcome === 'object' && !('skipped' in outcome) ? outcome : null;
}

/** The script's result with the marker lines taken out of its stdout. */
function withoutMarkers(r: ExecResult): ExecResult {
  return { ...r, stdout: r.stdout.split('\n').filter((l) => l !== '' && !MARKER.test(l)).join('\n') };
}

/** The last line of a failed script's stderr, or its exit (for a step's message). */
export function scriptDetail(r: ExecResult): string {
  return r.timedOut ? `timed out after ${BATCH_TIMEOUT_MS / 1000}s` : lastLine(r.stderr) || `exit ${r.exitCode}`;
}
