/**
 * What the owner of automation shares with observers through the state_dir (so over SSH too):
 * - `monitor.<env>.status.json`: its state (phase, triggers, automation, who paused it), its recent
 *   samples and alerts, rewritten atomically after every check and every change of phase;
 * - `monitor.<env>.samples.jsonl`: the sample file, one JSON sample per line, bounded: the last hour
 *   and at most SAMPLE_FILE_LIMIT samples are kept, rewritten from memory once it holds twice that;
 *   an observer (and a console restarted mid-incident) starts its charts from it;
 * - `monitor.<env>.requests.jsonl`: pause, resume and cancel from observers, appended one line each;
 *   the owner carries them out (recorded in history as if given to it directly) and empties the file.
 */
import { randomUUID } from 'node:crypto';
import type { AutomationOwner, MonitorState, Sample } from './types.js';
import { RingBuffer } from './ring.js';

/** The state-dir operations the shared files need (StateDir provides them). */
export interface SharedStateDir {
  read(name: string): Promise<string | null>;
  writeAtomic(name: string, content: string): Promise<void>;
  appendLine(name: string, line: string): Promise<void>;
  appendLines(name: string, lines: readonly string[]): Promise<void>;
  replaceIfUnchanged(name: string, expected: string, content: string): Promise<'replaced' | 'missing' | 'changed' | 'taken'>;
}

export const statusFile = (env: string): string => `monitor.${env}.status.json`;
export const sampleFile = (env: string): string => `monitor.${env}.samples.jsonl`;
export const requestFile = (env: string): string => `monitor.${env}.requests.jsonl`;

/** How far back the sample file reaches, and how many samples it keeps at most. */
export const SAMPLE_FILE_WINDOW_MS = 60 * 60_000;
export const SAMPLE_FILE_LIMIT = 3600;
/** Recent samples and alerts carried in the status file (observers poll it once per interval). */
const RECENT_SAMPLES = 10;
const RECENT_ALERTS = 20;

export interface SharedAlert {
  seq: number;
  at: number;
  severity: 'info' | 'warning' | 'critical';
  message: string;
}

export interface SharedStatus {
  owner: AutomationOwner;
  /** ISO time of this write. */
  updated_at: string;
  state: MonitorState;
  /** Who paused automation, when it is paused. */
  paused_by: string | null;
  recent: Sample[];
  alerts: SharedAlert[];
}

export type RequestAction = 'pause' | 'resume' | 'cancel';

export interface AutomationRequest {
  id: string;
  action: RequestAction;
  by: string;
  at: string;
}

function parseLines<T>(text: string | null, ok: (v: unknown) => v is T): T[] {
  const out: T[] = [];
  for (const line of (text ?? '').split('\n')) {
    if (!line.trim()) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (ok(v)) out.push(v);
    } catch {
      // A torn or foreign line is skipped.
    }
  }
  return out;
}

const isSample = (v: unknown): v is Sample => !!v && typeof v === 'object' && typeof (v as Sample).at === 'number' && typeof (v as Sample).errors === 'object';
const isRequest = (v: unknown): v is AutomationRequest =>
  !!v && typeof v === 'object' && typeof (v as AutomationRequest).id === 'string' && ['pause', 'resume', 'cancel'].includes((v as AutomationRequest).action);

/** The samples of the sample file that are within its window of `now`, oldest first. */
export function parseSampleFile(text: string | null, now: number): Sample[] {
  return parseLines(text, isSample)
    .filter((s) => now - s.at <= SAMPLE_FILE_WINDOW_MS)
    .slice(-SAMPLE_FILE_LIMIT);
}

export function parseStatus(text: string | null): SharedStatus | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as SharedStatus;
    return v && typeof v === 'object' && v.state && typeof v.state === 'object' && v.owner ? v : null;
  } catch {
    return null;
  }
}

/**
 * The owner's side: publish the status (coalesced: while one write is in flight, the next carries the
 * latest state), append samples to the bounded sample file, and take the observers' requests.
 */
/** Samples appended to the sample file at a time. */
const SAMPLE_BATCH = 10;

export class OwnerPublisher {
  private readonly ring: RingBuffer<string>;
  private readonly recent = new RingBuffer<Sample>(RECENT_SAMPLES);
  private readonly alerts = new RingBuffer<SharedAlert>(RECENT_ALERTS);
  private seq = 0;
  private linesInFile = 0;
  private writes: Promise<void> = Promise.resolve();
  private statusPending = false;
  /** Sample writes queued and not done: a slow state dir (SSH) must not grow the queue without bound. */
  private samplesPending = 0;
  private readonly handled = new Set<string>();
  /** Samples not yet appended to the file. */
  private readonly unwritten: string[] = [];

  constructor(
    private readonly state: SharedStateDir,
    private readonly env: string,
    private readonly status: () => Omit<SharedStatus, 'recent' | 'alerts' | 'updated_at'>,
    private readonly onError: (message: string) => void,
    /** Samples the file keeps (it is rewritten once it holds twice as many). */
    private readonly limit = SAMPLE_FILE_LIMIT,
  ) {
    this.ring = new RingBuffer<string>(limit);
  }

  /** Take over the sample file: keep what is within the window (a previous owner's samples too). */
  async open(now: number): Promise<Sample[]> {
    const kept = parseSampleFile(await this.state.read(sampleFile(this.env)), now).slice(-this.limit);
    for (const s of kept) this.ring.push(JSON.stringify(s));
    await this.state.writeAtomic(sampleFile(this.env), this.ring.toArray().map((l) => `${l}\n`).join(''));
    this.linesInFile = this.ring.size;
    return kept;
  }

  private queue(what: string, write: () => Promise<void>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => this.onError(`cannot ${what} in the state dir: ${err instanceof Error ? err.message : String(err)}`));
  }

  alert(severity: SharedAlert['severity'], message: string, at: number): void {
    this.alerts.push({ seq: ++this.seq, at, severity, message });
    this.publish();
  }

  sample(sample: Sample): void {
    this.recent.push(sample);
    const line = JSON.stringify(sample);
    this.ring.push(line);
    // Samples go to the file in batches (one append per SAMPLE_BATCH): the file is the last hour for a
    // takeover or a restarted console; observers read the recent samples from the status.
    this.unwritten.push(line);
    if (this.unwritten.length >= SAMPLE_BATCH) this.writeSamples();
  }

  private writeSamples(): void {
    const lines = this.unwritten.splice(0);
    if (lines.length === 0) return;
    // Far behind (a slow state dir): skip this append; the next rewrite from memory puts it back.
    if (this.samplesPending >= this.limit) return;
    this.samplesPending += lines.length;
    this.queue('append to the sample file', async () => {
      this.samplesPending -= lines.length;
      if (this.linesInFile + lines.length >= 2 * this.limit) {
        await this.state.writeAtomic(sampleFile(this.env), this.ring.toArray().map((l) => `${l}\n`).join(''));
        this.linesInFile = this.ring.size;
      } else {
        await this.state.appendLines(sampleFile(this.env), lines);
        this.linesInFile += lines.length;
      }
    });
  }

  /** Write the status soon (once per burst of changes). */
  publish(): void {
    if (this.statusPending) return;
    this.statusPending = true;
    this.queue('write the monitor status', async () => {
      this.statusPending = false;
      const body: SharedStatus = { ...this.status(), updated_at: new Date().toISOString(), recent: this.recent.toArray(), alerts: this.alerts.toArray() };
      await this.state.writeAtomic(statusFile(this.env), `${JSON.stringify(body)}\n`);
    });
  }

  /** Write the samples not yet in the file, then wait for the writes queued so far. */
  flush(): Promise<void> {
    this.writeSamples();
    return this.writes;
  }

  /** The observers' requests not carried out yet; the file is emptied once all of it was taken. */
  async takeRequests(): Promise<AutomationRequest[]> {
    const text = await this.state.read(requestFile(this.env));
    if (!text) return [];
    const all = parseLines(text, isRequest);
    const fresh = all.filter((r) => !this.handled.has(r.id));
    for (const r of fresh) this.handled.add(r.id);
    // Emptied only if nothing was appended meanwhile; otherwise the next look takes the rest.
    if ((await this.state.replaceIfUnchanged(requestFile(this.env), text, '')) === 'replaced') this.handled.clear();
    return fresh;
  }
}

/** An observer's side: read the owner's status and sample file, and send it requests. */
export class ObserverLink {
  constructor(
    private readonly state: SharedStateDir,
    private readonly env: string,
  ) {}

  async status(): Promise<SharedStatus | null> {
    return parseStatus(await this.state.read(statusFile(this.env)));
  }

  async samples(now: number): Promise<Sample[]> {
    return parseSampleFile(await this.state.read(sampleFile(this.env)), now);
  }

  async request(action: RequestAction, by: string): Promise<void> {
    const r: AutomationRequest = { id: randomUUID(), action, by, at: new Date().toISOString() };
    await this.state.appendLine(requestFile(this.env), JSON.stringify(r));
  }
}
