/**
 * What the parts of the monitor share: the environment and its policy, the engine, the clock, the stop
 * signal, and the three ways a part speaks (an event for listeners, an alert that may also notify, an
 * entry in history). The Monitor builds one and hands it to its sampler, baseline tracker and
 * automatic-rollback module, so each part sees the same services without reaching into the others.
 */
import type { Policy, ResolvedEnvironment } from '../config/schema.js';
import type { EngineHandle, RollbackEngine } from '../engine/engine.js';
import type { NotificationEvent } from '../engine/notify.js';
import type { HistoryEntry } from '../engine/types.js';
import type { MonitorEvent } from './types.js';

/** What the monitor needs of an opened environment (environment.ts's handle provides it). */
export type MonitorEnvironment = EngineHandle;

/** What the monitor needs of the rollback engine (RollbackEngine provides it). */
export type MonitorEngine = Pick<RollbackEngine, 'run' | 'lockOwner'>;

export interface MonitorNotifier {
  notify(event: NotificationEvent): void;
}

export interface MonitorClock {
  now(): number;
  /** Resolve after `ms`, or early (never rejecting) when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: MonitorClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export type AlertSeverity = 'info' | 'warning' | 'critical';

/** The notification part of an alert (the title is the alert's message). */
export type AlertNotification = Omit<NotificationEvent, 'env' | 'severity' | 'title'>;

export interface MonitorContext {
  readonly env: ResolvedEnvironment;
  readonly policy: Policy;
  readonly handle: MonitorEnvironment;
  readonly engine: MonitorEngine;
  readonly clock: MonitorClock;
  /** Aborted when the monitor stops. */
  readonly signal: AbortSignal;
  /** The sampling interval (ms). */
  readonly interval: number;
  /** Who the monitor acts as in history ("monitor@host"). */
  readonly actor: string;
  emit(e: MonitorEvent): void;
  alert(severity: AlertSeverity, message: string, notify?: AlertNotification): void;
  /** An entry in the environment's history (a failure to write is an alert, never thrown). */
  record(kind: HistoryEntry['kind'], by: string, reason: string, extra?: Partial<HistoryEntry>): Promise<void>;
}
