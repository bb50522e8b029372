/**
 * The per-environment lock: the owner file `state_dir/locks/<env>.owner.json`
 * {user, host, pid, operation_id, operation, started_at, refreshed_at, version}, created exclusively
 * and with its content in place from the first instant (temp file + link(2), on the target host through
 * the executor, so operators on different machines exclude each other): there is never a lock without
 * an owner. While held, the owner file is refreshed on an interval; a lock whose refreshed_at is older
 * than `policy.rollback.stale_lock_minutes` is stale and may be broken, but only on request
 * (`--break-lock`, or the monitor with `break_stale_locks`). Breaking is a compare-and-swap of the exact
 * owner file judged stale, so of two breakers only one succeeds. The taker records the break in
 * history with the previous owner (recordBrokenLock). Release waits for a refresh in flight, so a
 * released lock is gone.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { ExitCode, UserError } from '../errors.js';
import { appendHistoryTo, makeEntry } from './history.js';
import { readInterrupted } from './journal.js';
import type { EngineHandle } from './run.js';
import { formatAgo } from './time.js';
import type { InitiatedBy } from './types.js';

export interface LockState {
  read(name: string): Promise<string | null>;
  writeAtomic(name: string, content: string): Promise<void>;
  createExclusive(name: string, content: string): Promise<boolean>;
  replaceIfUnchanged(name: string, expected: string, content: string): Promise<'replaced' | 'missing' | 'changed' | 'taken'>;
  remove(name: string): Promise<void>;
  /** The owner file removed unless another operation's id is in it, in one step where it can be. */
  removeIfOwner?(name: string, operationId: string): Promise<void>;
}

/** The lock of an environment: its owner file (created exclusively: the atomic test-and-set). */
export const lockOwnerFile = (env: string): string => `locks/${env}.owner.json`;

/** How many times acquire retries when the lock disappears between two looks (released meanwhile). */
const ACQUIRE_ATTEMPTS = 5;

export interface LockOwner {
  user: string;
  host: string;
  pid: number;
  operation_id: string;
  /** "rollback", "deploy", "snapshot" ... */
  operation: string;
  env: string;
  started_at: string;
  refreshed_at: string;
  version: string;
  /** user@host (+ ssh client) of who started it. */
  initiated_by?: string;
  /** The owner's machine (/etc/machine-id) and boot (the kernel's boot id), where known: owners
   * written before these existed lack them. */
  machine_id?: string;
  boot_id?: string;
}

function readId(...files: string[]): string | undefined {
  for (const f of files) {
    try {
      const id = readFileSync(f, 'utf8').trim();
      if (/^[0-9a-f-]{16,64}$/i.test(id)) return id;
    } catch {
      // next
    }
  }
  return undefined;
}

let thisMachineCache: { machine_id?: string; boot_id?: string } | undefined;
/** This machine's ids, as recorded in the owners it writes. */
export function thisMachine(): { machine_id?: string; boot_id?: string } {
  if (!thisMachineCache) {
    const machine = readId('/etc/machine-id', '/var/lib/dbus/machine-id');
    const boot = readId('/proc/sys/kernel/random/boot_id');
    thisMachineCache = { ...(machine ? { machine_id: machine } : {}), ...(boot ? { boot_id: boot } : {}) };
  }
  return thisMachineCache;
}

/**
 * Is the owner's process certainly not running? Only for an owner on this machine: the same host
 * name is not enough (two hosts, or containers, can share one), so where both sides know the machine
 * id it must match too. On this machine, a different boot id means the owner's boot is over; the same
 * boot (or none known) asks whether its pid is alive.
 */
function ownerIsDeadHere(owner: LockOwner, here = thisMachine()): boolean {
  if (owner.host !== os.hostname()) return false;
  if (owner.machine_id && here.machine_id && owner.machine_id !== here.machine_id) return false;
  const sameMachineKnown = Boolean(owner.machine_id && owner.machine_id === here.machine_id);
  if (owner.boot_id && here.boot_id && owner.boot_id !== here.boot_id) return sameMachineKnown;
  return !pidAlive(owner.pid);
}

export interface AcquireOptions {
  env: string;
  operationId: string;
  operation?: string;
  user: string;
  initiatedBy?: string;
  version: string;
  staleMinutes: number;
  breakLock?: boolean;
  /** How often the owner file is refreshed; default min(30 s, stale/4). */
  refreshMs?: number;
  /** Called if a refresh finds the lock taken over (broken by someone else) or a refresh fails. */
  onWarning?: (message: string) => void;
  now?: () => number;
}

/** Is a process with this pid alive on this machine? */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseOwner(text: string | null): LockOwner | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as LockOwner;
    return typeof v === 'object' && v !== null && typeof v.pid === 'number' ? v : null;
  } catch {
    return null;
  }
}

export interface LockStatus {
  owner: LockOwner | null;
  /** Older than the stale threshold (by refreshed_at). */
  stale: boolean;
  /** The owner ran on this host and its pid is gone (it certainly is not running). */
  deadOnThisHost: boolean;
  ageMs: number;
}

export function lockStatus(owner: LockOwner | null, staleMinutes: number, now = Date.now()): LockStatus {
  if (!owner) return { owner, stale: false, deadOnThisHost: false, ageMs: 0 };
  const refreshed = Date.parse(owner.refreshed_at || owner.started_at);
  const ageMs = Number.isFinite(refreshed) ? now - refreshed : Infinity;
  return {
    owner,
    stale: ageMs > staleMinutes * 60_000,
    deadOnThisHost: ownerIsDeadHere(owner),
    ageMs,
  };
}

/** "prod is locked by alice@bastion (pid 123, rollback op rb-…) since 10:02:11Z (4 min ago)". */
export function describeOwner(env: string, owner: LockOwner | null, now = Date.now()): string {
  if (!owner) return `${env} is locked (its owner file ${lockOwnerFile(env)} is unreadable)`;
  const since = owner.started_at.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z');
  const who = owner.initiated_by ?? `${owner.user}@${owner.host}`;
  return `${env} is locked by ${who} (pid ${owner.pid}, ${owner.operation} op ${owner.operation_id}) since ${since} (${formatAgo(Date.parse(owner.started_at), now)})`;
}

/** Exit 3: who holds it, since when, whether it is stale or its process is gone, and what to do. */
function heldError(o: AcquireOptions, prev: LockOwner | null, st: LockStatus, now: number): UserError {
  const staleNote = st.stale
    ? `; it is stale (not refreshed for ${formatAgo(now - st.ageMs, now).replace(' ago', '')}, threshold ${o.staleMinutes} min)`
    : st.deadOnThisHost
      ? '; that process is no longer running on this host'
      : '';
  const hint =
    st.stale || st.deadOnThisHost || !prev
      ? 'if no rollback or deploy is really running, pass --break-lock (the break is recorded in history)'
      : `wait for it to finish, or ask ${prev.initiated_by ?? `${prev.user}@${prev.host}`}; --break-lock only breaks a lock older than ${o.staleMinutes} min`;
  return new UserError(`${describeOwner(o.env, prev, now)}${staleNote}`, { exitCode: ExitCode.LOCKED, code: 'LOCK_HELD', hint });
}

export class EnvLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  /** The owner file is gone (removed here, or by a script that removed it only if it was ours). */
  private removed = false;
  /** The refresh running now: release() waits for it, or its rewrite could land after the removal. */
  private refreshing: Promise<void> | null = null;
  /** Set when a refresh found someone else's owner file: the lock was broken under us. */
  lost = false;

  private constructor(
    private readonly state: LockState,
    readonly owner: LockOwner,
    /** The owner of the lock that was broken to take this one, if any. */
    readonly brokenOwner: LockOwner | null,
    readonly brokeLock: boolean,
    private readonly onWarning: (m: string) => void,
  ) {}

  /** Read the current owner without taking the lock. */
  static async owner(state: LockState, env: string): Promise<LockOwner | null> {
    return parseOwner(await state.read(lockOwnerFile(env)).catch(() => null));
  }

  /** The owner file this process writes to take the lock. */
  static ownerFor(o: AcquireOptions): LockOwner {
    const nowIso = new Date((o.now ?? Date.now)()).toISOString();
    return {
      user: o.user,
      host: os.hostname(),
      pid: process.pid,
      operation_id: o.operationId,
      operation: o.operation ?? 'rollback',
      env: o.env,
      started_at: nowIso,
      refreshed_at: nowIso,
      version: o.version,
      ...(o.initiatedBy ? { initiated_by: o.initiatedBy } : {}),
      ...thisMachine(),
    };
  }

  /** The owner file's text, as created. */
  static ownerText(owner: LockOwner): string {
    return `${JSON.stringify(owner)}\n`;
  }

  static async acquire(state: LockState, o: AcquireOptions): Promise<EnvLock> {
    const now = o.now ?? Date.now;
    const owner = EnvLock.ownerFor(o);
    const file = lockOwnerFile(o.env);
    const text = EnvLock.ownerText(owner);
    let broken: LockOwner | null = null;
    let brokeLock = false;
    for (let attempt = 1; ; attempt++) {
      if (await state.createExclusive(file, text)) break;
      const raw = await state.read(file);
      // Gone between the two looks: released, or a breaker has it moved aside for the instant of its
      // compare-and-swap. Back off briefly so an in-flight break completes (and is recorded as the
      // break it is) rather than being overtaken; then try again, a few times, then say it is contended.
      if (raw === null && attempt < ACQUIRE_ATTEMPTS) {
        await delay(20 * 2 ** attempt);
        continue;
      }
      const prev = parseOwner(raw);
      const st = lockStatus(prev, o.staleMinutes, now());
      if (!o.breakLock || raw === null) throw heldError(o, prev, st, now());
      // --break-lock: only a stale lock, a dead local owner, or an unreadable owner file.
      if (prev && !st.stale && !st.deadOnThisHost) {
        throw new UserError(
          `${describeOwner(o.env, prev, now())}; refusing to break it: it was refreshed ${formatAgo(now() - st.ageMs, now())}, the stale threshold is ${o.staleMinutes} min`,
          { exitCode: ExitCode.LOCKED, code: 'LOCK_HELD', hint: 'a live rollback holds it; wait for it to finish' },
        );
      }
      // Replace exactly the owner file judged breakable: if it changed meanwhile (refreshed, or broken
      // and taken by someone else), this breaks nothing.
      const swapped = await state.replaceIfUnchanged(file, raw, text);
      if (swapped === 'replaced') {
        broken = prev;
        brokeLock = true;
        break;
      }
      if (swapped === 'missing' && attempt < ACQUIRE_ATTEMPTS) {
        await delay(20 * 2 ** attempt); // another breaker moved it aside first: let it finish
        continue;
      }
      const again = await EnvLock.owner(state, o.env);
      throw new UserError(`${describeOwner(o.env, again, now())} (taken while breaking the stale lock)`, { exitCode: ExitCode.LOCKED, code: 'LOCK_HELD' });
    }
    return EnvLock.taken(state, owner, o, { broken, brokeLock });
  }

  /**
   * The lock whose owner file `owner` this process has just created exclusively (here, or inside a
   * combined script on the host): refreshed from now on, released by release().
   */
  static taken(
    state: LockState,
    owner: LockOwner,
    o: Pick<AcquireOptions, 'refreshMs' | 'staleMinutes' | 'onWarning'>,
    broke: { broken: LockOwner | null; brokeLock: boolean } = { broken: null, brokeLock: false },
  ): EnvLock {
    const lock = new EnvLock(state, owner, broke.broken, broke.brokeLock, o.onWarning ?? (() => {}));
    const refreshMs = o.refreshMs ?? Math.max(1000, Math.min(30_000, (o.staleMinutes * 60_000) / 4));
    lock.timer = setInterval(() => void lock.refresh(), refreshMs);
    lock.timer.unref();
    return lock;
  }

  /** Rewrite refreshed_at (if the lock is still ours). One refresh at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.rewriteOwner().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async rewriteOwner(): Promise<void> {
    if (this.released || this.lost) return;
    try {
      const cur = await EnvLock.owner(this.state, this.owner.env);
      if (cur && cur.operation_id !== this.owner.operation_id) {
        this.lost = true;
        this.onWarning(`the lock was broken by ${cur.user}@${cur.host} (op ${cur.operation_id}) while this rollback held it`);
        return;
      }
      if (this.released) return;
      this.owner.refreshed_at = new Date().toISOString();
      await this.state.writeAtomic(lockOwnerFile(this.owner.env), `${JSON.stringify(this.owner)}\n`);
    } catch (err) {
      this.onWarning(`could not refresh the lock: ${(err as Error).message}`);
    }
  }

  /**
   * Stop refreshing and wait for a refresh in flight, for a caller that removes the owner file itself
   * (inside a combined script, only if it still names this operation: then removedElsewhere()).
   */
  async stopRefreshing(): Promise<void> {
    this.released = true;
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
  }

  /** A script removed the owner file (only if it was ours): release() has nothing left to do. */
  removedElsewhere(): void {
    this.removed = true;
  }

  /**
   * Stop refreshing, wait for a refresh in flight (its atomic rewrite would otherwise put the owner
   * file back after the removal), then remove the lock if it is still ours. Idempotent.
   */
  async release(): Promise<void> {
    await this.stopRefreshing();
    if (this.removed) return;
    if (this.state.removeIfOwner) {
      await this.state.removeIfOwner(lockOwnerFile(this.owner.env), this.owner.operation_id);
    } else {
      const cur = await EnvLock.owner(this.state, this.owner.env).catch(() => null);
      if (!cur || cur.operation_id === this.owner.operation_id) await this.state.remove(lockOwnerFile(this.owner.env));
    }
    this.removed = true;
  }
}

/**
 * Record a broken lock in history with its previous owner. When the broken lock was left by an
 * interrupted rollback (its journal is still there), that rollback's outcome is recorded first, and the
 * release it left is marked bad if it was switched away from. Never throws: a failure is a warning.
 */
export async function recordBrokenLock(
  h: Pick<EngineHandle, 'env' | 'state' | 'executor' | 'marks' | 'store'>,
  prev: LockOwner | null,
  by: { reason: string; who: string; identity: InitiatedBy },
  warn: (message: string) => void,
): Promise<void> {
  const env = h.env.name;
  const prevText = prev ? describeOwner(env, prev) : 'an unreadable lock';
  warn(`broke the lock: ${prevText}`);
  try {
    const intr = await readInterrupted(h.state, env, () => h.store.live(), { refreshGraceMs: 0 });
    if (intr && (!prev || intr.journal.operation_id === prev.operation_id || !intr.lockOwner)) {
      warn(intr.message);
      const j = intr.journal;
      await appendHistoryTo(
        h.state,
        h.executor,
        makeEntry({
          id: j.operation_id,
          timestamp: j.started_at,
          env,
          kind: j.kind,
          trigger: j.trigger ?? 'manual',
          ...(j.explanation ? { explanation: j.explanation } : {}),
          from: j.from,
          to: j.to,
          reason: j.reason,
          initiated_by: j.initiated_by,
          success: false,
          verification: 'skipped',
          error: `interrupted at step ${j.step}; live was ${intr.live ?? '(nothing)'} afterwards`,
        }),
      );
      if (intr.live === j.to && j.from) await h.marks.markBad(j.from);
    }
    await appendHistoryTo(
      h.state,
      h.executor,
      makeEntry({
        env,
        kind: 'lock_broken',
        trigger: 'manual',
        reason: by.reason,
        initiated_by: by.who,
        initiated_by_detail: by.identity,
        success: true,
        explanation: `previous owner: ${prevText}`,
        ...(prev ? { from: null, to: null } : {}),
      }),
    );
  } catch (err) {
    warn(`could not record the lock break in history: ${(err as Error).message}`);
  }
}
