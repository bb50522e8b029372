/**
 * The progress of a fleet rollback on stderr: a host x step grid that is redrawn in place on a
 * terminal, and plain lines (one per host step that ends, one per host that ends) when stderr is not
 * one, so a log file or a CI job reads top to bottom. The grid is pure (formatHostGrid) and the same
 * for both; only the redraw differs.
 */
import type { EngineEvent, StepName } from '../../core/engine/types.js';
import type { FleetHostResult, HostStatus } from '../../core/fleet/index.js';
import type { Writer } from '../output.js';

/** The steps the grid shows, in order (lock and bookkeeping steps are folded away). */
export const GRID_STEPS: readonly StepName[] = ['validate', 'maintenance_on', 'stop', 'switch', 'start', 'verify', 'record'];
const HEADINGS: Partial<Record<StepName, string>> = { maintenance_on: 'maint', validate: 'valid' };

export type Cell = 'pending' | 'running' | 'ok' | 'failed' | 'skipped';
const MARK: Record<Cell, string> = { pending: '·', running: '…', ok: 'ok', failed: 'FAIL', skipped: '-' };

export interface HostRow {
  name: string;
  cells: Partial<Record<StepName, Cell>>;
  /** The host's end status, or null while waiting or running. */
  status: HostStatus | null;
  running: boolean;
}

export function formatHostGrid(rows: readonly HostRow[]): string[] {
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const cols = GRID_STEPS.map((s) => Math.max(4, (HEADINGS[s] ?? s).length));
  const head = ['HOST'.padEnd(width), ...GRID_STEPS.map((s, i) => (HEADINGS[s] ?? s).padEnd(cols[i] ?? 4)), 'STATUS'].join('  ');
  const lines = [head];
  for (const r of rows) {
    const cells = GRID_STEPS.map((s, i) => MARK[r.cells[s] ?? 'pending'].padEnd(cols[i] ?? 4));
    const status = r.status ?? (r.running ? 'running' : 'waiting');
    lines.push([r.name.padEnd(width), ...cells, status].join('  ').trimEnd());
  }
  return lines;
}

export interface FleetProgress {
  hostStart(name: string, batch: number): void;
  event(host: string, e: EngineEvent): void;
  hostEnd(r: FleetHostResult): void;
  note(line: string): void;
  /** The grid's last state stays on screen (a terminal) or is printed once (plain lines). */
  done(): void;
}

export function fleetProgress(stderr: Writer, names: readonly string[], options: { live: boolean }): FleetProgress {
  const rows = new Map<string, HostRow>(names.map((n) => [n, { name: n, cells: {}, status: null, running: false }]));
  let drawn = 0;
  const redraw = (): void => {
    if (!options.live) return;
    const lines = formatHostGrid([...rows.values()]);
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    stderr.write(`${up}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
    drawn = lines.length;
  };
  /** A line above the grid on a terminal (the grid is drawn again below it). */
  const say = (line: string): void => {
    if (options.live && drawn > 0) {
      stderr.write(`\x1b[${drawn}F\x1b[J${line}\n`);
      drawn = 0;
      redraw();
    } else stderr.write(`${line}\n`);
  };
  redraw();
  return {
    hostStart: (name, batch) => {
      const r = rows.get(name);
      if (r) r.running = true;
      if (options.live) redraw();
      else say(`${name}: started (batch ${batch + 1})`);
    },
    event: (host, e) => {
      const r = rows.get(host);
      if (!r) return;
      if (e.type === 'step-start' && GRID_STEPS.includes(e.step)) r.cells[e.step] = 'running';
      else if (e.type === 'step-end' && GRID_STEPS.includes(e.step)) {
        r.cells[e.step] = e.status === 'planned' ? 'pending' : e.status;
        if (!options.live && e.status !== 'skipped') say(`${host}: ${e.step} ${e.status === 'ok' ? 'ok' : 'FAILED'} (${e.ms} ms)${e.error ? `: ${e.error}` : ''}`);
      } else if (e.type === 'warning') say(`warning: ${host}: ${e.message}`);
      else return;
      redraw();
    },
    hostEnd: (res) => {
      const r = rows.get(res.name);
      if (r) {
        r.running = false;
        r.status = res.status;
      }
      if (options.live) redraw();
      else say(`${res.name}: ${res.status}${res.error ? `: ${res.error}` : ''}`);
    },
    note: say,
    done: () => {
      if (!options.live) for (const l of formatHostGrid([...rows.values()])) stderr.write(`${l}\n`);
    },
  };
}
