/**
 * known_good / bad marks in `<state_dir>/marks.json` (`{"known_good": [...], "bad": [...]}`), replaced
 * atomically on every change. Marking a backup one way removes it from the other list. Read-modify-write:
 * writers are expected to hold the environment's lock (the engine and the monitor do).
 */
import type { Marks } from '../stores/types.js';
import type { StateDir } from './state-dir.js';

export const MARKS_FILE = 'marks.json';

export function parseMarks(text: string | null): Marks {
  if (text === null || text.trim() === '') return { knownGood: [], bad: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // A damaged marks file must not block a rollback: no marks is the safe reading.
    return { knownGood: [], bad: [] };
  }
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  const o = (raw ?? {}) as Record<string, unknown>;
  return { knownGood: strings(o.known_good), bad: strings(o.bad) };
}

export function serializeMarks(m: Marks): string {
  return `${JSON.stringify({ known_good: m.knownGood, bad: m.bad }, null, 2)}\n`;
}

export class MarkStore {
  constructor(readonly state: StateDir) {}

  /** Absolute path of marks.json on the target host (store list scripts read it in the same round trip). */
  get path(): string {
    return this.state.path(MARKS_FILE);
  }

  async read(): Promise<Marks> {
    return parseMarks(await this.state.read(MARKS_FILE));
  }

  private async update(fn: (m: Marks) => Marks): Promise<Marks> {
    const next = fn(await this.read());
    await this.state.writeAtomic(MARKS_FILE, serializeMarks(next));
    return next;
  }

  /** Several marks in one read and one write (the rollback's mark step: the fled release bad, the target good). */
  apply(changes: { knownGood?: readonly string[]; bad?: readonly string[] }): Promise<Marks> {
    const good = new Set(changes.knownGood ?? []);
    const bad = new Set(changes.bad ?? []);
    return this.update((m) => ({
      knownGood: [...m.knownGood.filter((n) => !good.has(n) && !bad.has(n)), ...good],
      bad: [...m.bad.filter((n) => !good.has(n) && !bad.has(n)), ...bad],
    }));
  }

  markKnownGood(name: string): Promise<Marks> {
    return this.update((m) => ({
      knownGood: [...m.knownGood.filter((n) => n !== name), name],
      bad: m.bad.filter((n) => n !== name),
    }));
  }

  markBad(name: string): Promise<Marks> {
    return this.update((m) => ({
      knownGood: m.knownGood.filter((n) => n !== name),
      bad: [...m.bad.filter((n) => n !== name), name],
    }));
  }

  /** Drop every mark of `names` (after retention removed them). */
  forget(names: readonly string[]): Promise<Marks> {
    const drop = new Set(names);
    return this.update((m) => ({
      knownGood: m.knownGood.filter((n) => !drop.has(n)),
      bad: m.bad.filter((n) => !drop.has(n)),
    }));
  }
}
