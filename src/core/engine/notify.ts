/**
 * Notifications: a Slack-compatible webhook, a generic command (the event as JSON on stdin: paging
 * tools, mail) and email through `sendmail -t -i`. Everything here is off the critical path: `notify()`
 * returns at once, sending (with a timeout per attempt and retries with backoff) happens in the
 * background, and a failing or hanging channel only produces a warning. `drain()` lets a short-lived
 * process (the CLI) give pending sends a bounded time after the rollback is over.
 *
 * Secrets are never printed: channels are named by kind and host only ("slack webhook (hooks.slack.com)").
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { redactSecrets } from '../config/redact.js';
import { killGroupAndHolders, stdioInodes } from '../exec/pipe-holders.js';
import type { Notifications } from '../config/schema.js';

/** URLs (down to scheme and host), tokens and passwords out of a message; one implementation, in config/redact.ts. */
export { redactSecrets };

export type NotificationEventType =
  | 'rollback_started'
  | 'rollback_succeeded'
  | 'rollback_failed'
  | 'verification_failed'
  | (string & {});

export interface NotificationEvent {
  event: NotificationEventType;
  env: string;
  severity: 'info' | 'warning' | 'critical';
  /** One line, e.g. "prod rolled back from backup_3 to backup_2 (verification passed)". */
  title: string;
  /** More lines (reason, who, durations). */
  text?: string;
  timestamp?: string;
  /** Extra machine-readable fields (from, to, kind, trigger, duration_ms, ...). */
  data?: Record<string, unknown>;
}

export interface NotifierOptions {
  /** Called for each channel failure (after retries) or skipped channel; never throws. */
  onWarning?: (message: string) => void;
  /** Delay before retry n (1-based); default 500 ms x 2^(n-1). */
  backoffMs?: (attempt: number) => number;
}

interface Channel {
  name: string;
  send(ev: NotificationEvent, signal: AbortSignal): Promise<void>;
}

function onPath(bin: string): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/lib', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, bin);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Run a channel's process with the event on stdin. Every wait is bounded by `signal` (the per-attempt
 * timeout): the send is over when the process exits, not when its pipes close, since a helper it
 * detached (`setsid ... &`) may hold them for as long as it likes. At the deadline the process group
 * and anything still holding the pipes are killed, and this process lets go of its ends either way, so
 * nothing a notifier leaves behind keeps the CLI alive.
 */
function runWithStdin(file: string, args: string[], input: string, signal: AbortSignal, env?: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('timed out'));
    const child = spawn(file, args, {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true,
      env: env ? { ...process.env, ...env } : process.env,
    });
    const inodes = stdioInodes(child.pid, [0, 2]);
    let stderr = '';
    let exit: string | null = null;
    let settled = false;
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 2000) stderr += b.toString('utf8');
    });
    const failure = (): Error => {
      const last = stderr.trim().split('\n').pop() ?? '';
      return new Error(`exit ${exit}${last ? `: ${redactSecrets(last).slice(0, 200)}` : ''}`);
    };
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      child.stdin.destroy();
      child.stderr.destroy();
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => {
      killGroupAndHolders(child.pid, inodes);
      finish(exit === null ? new Error('timed out') : failure());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => finish(err));
    child.on('exit', (code, sig) => {
      if (code === 0) return finish();
      // Failed: wait (until the deadline at most) for its last stderr lines to say why.
      exit = String(code ?? sig);
    });
    child.stderr.on('close', () => {
      if (exit !== null) finish(failure());
    });
    child.on('close', () => {
      if (exit !== null) finish(failure());
    });
    child.stdin.on('error', () => {
      // The command may not read its stdin; that is fine.
    });
    child.stdin.end(input);
  });
}

function slackPayload(ev: NotificationEvent): unknown {
  const icon = ev.severity === 'critical' ? ':rotating_light:' : ev.severity === 'warning' ? ':warning:' : ':arrows_counterclockwise:';
  const text = `${icon} *${ev.title}*${ev.text ? `\n${ev.text}` : ''}`;
  return {
    text,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
    attachments: ev.data ? [{ fields: Object.entries(ev.data).map(([k, v]) => ({ title: k, value: String(v), short: true })) }] : [],
  };
}

export class Notifier {
  private readonly channels: Channel[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly controller = new AbortController();
  readonly warnings: string[] = [];
  private readonly onWarning: (m: string) => void;
  private readonly backoff: (n: number) => number;
  delivered = 0;
  failed = 0;

  constructor(config: Partial<Notifications> | undefined, options: NotifierOptions = {}) {
    const cfg = config ?? {};
    this.timeoutMs = (cfg.timeout_seconds ?? 5) * 1000;
    this.retries = cfg.retries ?? 2;
    this.onWarning = options.onWarning ?? (() => {});
    this.backoff = options.backoffMs ?? ((n) => 500 * 2 ** (n - 1));
    const webhook = cfg.slack_webhook?.trim();
    if (webhook) {
      let host = 'invalid URL';
      try {
        host = new URL(webhook).host;
      } catch {
        this.warn('notifications.slack_webhook is not a valid URL: Slack notifications are disabled');
      }
      if (host !== 'invalid URL') {
        this.channels.push({
          name: `slack webhook (${host})`,
          send: async (ev, signal) => {
            const res = await fetch(webhook, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(slackPayload(ev)),
              signal,
            });
            await res.body?.cancel();
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
          },
        });
      }
    }
    const command = cfg.command?.trim();
    if (command) {
      this.channels.push({
        name: 'notifications.command',
        send: (ev, signal) =>
          // The command text travels in the environment, not in argv: a substituted secret stays out of
          // `ps` (a process's environment is readable only by its owner). Stdin carries the event.
          runWithStdin('sh', ['-c', 'eval "$ROLLBACK_NOTIFY_COMMAND"'], `${JSON.stringify(ev)}\n`, signal, {
            ROLLBACK_NOTIFY_COMMAND: command,
            ROLLBACK_EVENT: ev.event,
            ROLLBACK_ENV: ev.env,
            ROLLBACK_SEVERITY: ev.severity,
          }),
      });
    }
    const email = cfg.email?.trim();
    if (email) {
      const sendmail = onPath('sendmail');
      if (!sendmail) {
        this.warn('notifications.email is set but sendmail is not on PATH: email notifications are disabled');
      } else if (/[\r\n]/.test(email)) {
        this.warn('notifications.email contains a line break: email notifications are disabled');
      } else {
        this.channels.push({
          name: 'email (sendmail)',
          send: (ev, signal) => {
            const critical = ev.severity === 'critical';
            const mail = [
              `To: ${email}`,
              `Subject: [rollback-tui${critical ? ' CRITICAL' : ''}] ${ev.title.replace(/[\r\n]+/g, ' ')}`,
              // Mail clients and filters sort on these, not on the subject.
              ...(critical ? ['X-Priority: 1', 'Importance: high'] : []),
              'Content-Type: text/plain; charset=utf-8',
              '',
              ev.title,
              '',
              ev.text ?? '',
              '',
              JSON.stringify(ev.data ?? {}, null, 2),
              '',
            ].join('\n');
            return runWithStdin(sendmail, ['-t', '-i'], mail, signal);
          },
        });
      }
    }
  }

  /** Channel names (no secrets), for previews. */
  get channelNames(): string[] {
    return this.channels.map((c) => c.name);
  }

  private warn(message: string): void {
    const m = redactSecrets(message);
    this.warnings.push(m);
    try {
      this.onWarning(m);
    } catch {
      // a listener must not break notifications
    }
  }

  /** Queue an event on every channel and return at once. */
  notify(event: NotificationEvent): void {
    const ev: NotificationEvent = { timestamp: new Date().toISOString(), ...event };
    for (const ch of this.channels) {
      const p = this.deliver(ch, ev).finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    }
  }

  private async deliver(ch: Channel, ev: NotificationEvent): Promise<void> {
    let lastError = '';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (this.controller.signal.aborted) break;
      if (attempt > 0) await sleep(this.backoff(attempt), this.controller.signal);
      const signal = AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.controller.signal]);
      try {
        await ch.send(ev, signal);
        this.delivered++;
        return;
      } catch (err) {
        const e = err as Error;
        lastError = e.name === 'TimeoutError' || signal.aborted ? `timed out after ${this.timeoutMs} ms` : e.message;
      }
    }
    this.failed++;
    this.warn(
      `notification ${ev.event} to ${ch.name} failed${this.controller.signal.aborted ? ' (given up)' : ` after ${this.retries + 1} attempts`}: ${lastError}`,
    );
  }

  get pending(): number {
    return this.inflight.size;
  }

  /**
   * Wait for pending sends up to `maxMs`, then give up on the rest (each reported as a warning).
   * Resolves with how many were still pending when given up.
   */
  async drain(maxMs: number): Promise<number> {
    if (this.inflight.size === 0) return 0;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), maxMs);
    });
    const all = (async () => {
      while (this.inflight.size) await Promise.allSettled([...this.inflight]);
      return 'done' as const;
    })();
    const r = await Promise.race([all, timeout]);
    clearTimeout(timer);
    if (r === 'done') return 0;
    const left = this.inflight.size;
    this.controller.abort();
    await Promise.allSettled([...this.inflight]);
    return left;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** What a rollback's notifications say about the run: who, why, which trigger, which operation. */
export interface RollbackEventFacts {
  env: string;
  /** `notifications.ceo_alert`: an automatic rollback's notifications go out as critical. */
  ceoAlert: boolean;
  reason: string;
  /** "manual" or the policy trigger that fired. */
  trigger: string;
  explanation?: string;
  kind: string;
  who: string;
  operationId: string;
}

/** A rollback notification (started, succeeded, failed) with the run's facts in its text and data. */
export function rollbackEvent(
  facts: RollbackEventFacts,
  type: NotificationEvent['event'],
  severity: NotificationEvent['severity'],
  title: string,
  data: Record<string, unknown>,
): NotificationEvent {
  // Every notification about an automatic rollback goes out as critical with ceo_alert, so a pager or a
  // Slack channel that filters on severity escalates it to whoever must know at once.
  const automatic = facts.trigger !== 'manual';
  return {
    event: type,
    env: facts.env,
    severity: automatic && facts.ceoAlert ? 'critical' : severity,
    title,
    text: `Reason: ${facts.reason}\nInitiated by: ${facts.who}\nTrigger: ${facts.trigger}${facts.explanation ? ` (${facts.explanation})` : ''}`,
    data: { id: facts.operationId, kind: facts.kind, trigger: facts.trigger, ...data },
  };
}

/** The notification of a finished rollback: succeeded, verification failed, or failed. */
export function rollbackResultEvent(
  facts: RollbackEventFacts,
  r: { from: string | null; to: string; success: boolean; verification: string; error: string | null; durationMs: number },
): NotificationEvent {
  const data = { from: r.from, to: r.to, duration_ms: r.durationMs, verification: r.verification };
  if (r.success) {
    return rollbackEvent(facts, 'rollback_succeeded', 'info', `${facts.env} rolled back from ${r.from ?? '(none)'} to ${r.to} (verification ${r.verification})`, data);
  }
  const vf = r.verification === 'failed';
  return rollbackEvent(
    facts,
    vf ? 'verification_failed' : 'rollback_failed',
    'critical',
    vf ? `${facts.env}: rolled back to ${r.to} but verification FAILED` : `${facts.env}: rollback to ${r.to} FAILED: ${r.error ?? ''}`,
    { ...data, error: r.error },
  );
}
