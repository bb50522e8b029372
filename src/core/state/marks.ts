/**
 * known_good / bad marks in `<state_dir>/marks.json` (`{"known_good": [...], "bad": [...]}`), replaced
 * atomically on every change. Marking a backup one way removes it from the other list. Read-modify-write:
 * writers are expected to hold the environment's lock (the engine, the monitor and `snapshot` do).
 *
 * A damaged file (not JSON, not the expected shape, empty, NUL bytes, unreadable) is never read as "no
 * marks": that would silently drop every `bad` mark and let the next default rollback go back to a bad
 * release. It reads as `damaged` (a warning naming the file and the fix): listing still works, a default
 * or automatic rollback is refused (pickDefaultTarget), and writers refuse to replace the file.
 */
import { UserError } from '../errors.js';
import type { Marks } from '../stores/types.js';
import type { StateDir } from './state-dir.js';

export const MARKS_FILE = 'marks.json';

/**
 * sh fragment for the stores' list scripts (one round trip): expects $marks (path, or empty for none).
 * Prints `M <content>` (NUL bytes of a damaged file turned into \001 so they cannot split the output), or
 * `Q <problem>` when the path exists but cannot be read as a file.
 */
export const MARKS_LIST_FRAGMENT = `
if [ -n "$marks" ]; then
  if [ -f "$marks" ] && [ -r "$marks" ]; then printf 'M\\0'; tr '\\000' '\\001' < "$marks"; printf '\\0'
  elif [ -f "$marks" ]; then printf 'Q\\0%s\\0' "it cannot be read by $(id -un 2>/dev/null || echo this user)"
  elif [ -e "$marks" ] || [ -L "$marks" ]; then printf 'Q\\0%s\\0' 'it is not a regular file'
  fi
fi
`;

/** The warning for a damaged marks file: what it means and how to fix it. */
export function damagedMarksMessage(file: string, problem: string): string {
  return (
    `marks file ${file} is damaged (${problem}): which releases are bad or known-good is unknown, so a rollback ` +
    'without --to (standard, dry run, monitor) is refused. Fix: repair it by hand ({"known_good": [...], "bad": [...]}), ' +
    `or move it aside (mv ${file} ${file}.damaged) and write the bad releases into a new one by hand ` +
    '(`rollback-tui history` shows what was rolled back away from); --to NAME still works'
  );
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 120);
}

/**
 * Parse marks.json's content (null: the file does not exist). `problem` is set when the list script
 * found the path but could not read it. Damage is reported in `damaged`, never as empty marks.
 */
export function parseMarks(text: string | null, file: string = MARKS_FILE, problem: string | null = null): Marks {
  const damaged = (why: string): Marks => ({ knownGood: [], bad: [], damaged: damagedMarksMessage(file, why) });
  if (problem !== null) return damaged(problem);
  if (text === null) return { knownGood: [], bad: [] };
  if (text.trim() === '') return damaged('it is empty');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return damaged(`not valid JSON: ${oneLine((err as Error).message)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return damaged('not a JSON object');
  const o = raw as Record<string, unknown>;
  const lists: Marks = { knownGood: [], bad: [] };
  for (const [key, field] of [['known_good', 'knownGood'], ['bad', 'bad']] as const) {
    const v = o[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) return damaged(`"${key}" is not a list of names`);
    lists[field] = v as string[];
  }
  return lists;
}

export function serializeMarks(m: Marks): string {
  return `${JSON.stringify({ known_good: m.knownGood, bad: m.bad }, null, 2)}\n`;
}

export class MarkStore {
  /** The file's text as a store's listing last read it (null: absent), for the next update's compare-and-write. */
  private lastSeen: { text: string | null } | undefined;

  constructor(readonly state: StateDir) {}

  /** A listing read the marks file in its own script: what it held (never a damaged or unreadable one). */
  saw(text: string | null, problem?: string | null): void {
    this.lastSeen = problem === null || problem === undefined ? { text } : undefined;
  }

  /** Absolute path of marks.json on the target host (store list scripts read it in the same round trip). */
  get path(): string {
    return this.state.path(MARKS_FILE);
  }

  /** The marks; a damaged file gives empty lists with `damaged` set (never throws for damage). */
  async read(): Promise<Marks> {
    try {
      return parseMarks(await this.state.read(MARKS_FILE), this.path);
    } catch (err) {
      if (err instanceof UserError && err.code === 'STATE_NOT_A_FILE') return parseMarks(null, this.path, 'it is not a regular file');
      throw err;
    }
  }

  /** Read-modify-write; refuses (MARKS_DAMAGED, the file left as it is) when the file is damaged. */
  private async update(what: string, fn: (m: Marks) => Marks): Promise<Marks> {
    // What a listing just read (the rollback's plan lists the backups under the lock): written over in
    // one round trip if the file still holds it, else read again.
    const seen = this.lastSeen;
    this.lastSeen = undefined;
    const before = seen ? parseMarks(seen.text, this.path) : null;
    if (seen && before && !before.damaged) {
      const next = fn(before);
      // Any trouble (the file replaced by a directory meanwhile, a full disk) is met again, and
      // reported as such, by the read-and-write below.
      if (await this.state.writeIfUnchanged(MARKS_FILE, seen.text, serializeMarks(next)).catch(() => false)) return next;
    }
    const current = await this.read();
    if (current.damaged) {
      throw new UserError(`cannot record marks (${what}): ${current.damaged}`, { code: 'MARKS_DAMAGED' });
    }
    const next = fn(current);
    await this.state.writeAtomic(MARKS_FILE, serializeMarks(next));
    return next;
  }

  /** Several marks in one read and one write (the rollback's mark step: the fled release bad, the target good). */
  apply(changes: { knownGood?: readonly string[]; bad?: readonly string[] }): Promise<Marks> {
    const good = new Set(changes.knownGood ?? []);
    const bad = new Set(changes.bad ?? []);
    const what = [bad.size ? `bad: ${[...bad].join(', ')}` : '', good.size ? `known-good: ${[...good].join(', ')}` : ''].filter(Boolean).join('; ');
    return this.update(what || 'no change', (m) => ({
      knownGood: [...m.knownGood.filter((n) => !good.has(n) && !bad.has(n)), ...good],
      bad: [...m.bad.filter((n) => !good.has(n) && !bad.has(n)), ...bad],
    }));
  }

  markKnownGood(name: string): Promise<Marks> {
    return this.apply({ knownGood: [name] });
  }

  markBad(name: string): Promise<Marks> {
    return this.apply({ bad: [name] });
  }

  /** Drop every mark of `names` (after retention removed them). */
  forget(names: readonly string[]): Promise<Marks> {
    const drop = new Set(names);
    return this.update(`forget ${names.join(', ')}`, (m) => ({
      knownGood: m.knownGood.filter((n) => !drop.has(n)),
      bad: m.bad.filter((n) => !drop.has(n)),
    }));
  }
}
