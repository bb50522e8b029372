/**
 * Health checks (the environment's `health:` list): http, tcp and command. Used by the engine's
 * verification after a rollback and by the monitor's probes, so they are pure (no global state), fast,
 * never throw for an unhealthy service (the result says why), and honour an AbortSignal.
 *
 * Where a check runs (`via`):
 * - http and tcp default to `local`: they probe from the operator's machine, as the operator (and the
 *   users) reach the service. `via: target` runs them on the target host through the executor
 *   (curl/wget for http, nc or bash's /dev/tcp for tcp).
 * - command checks default to `target`: a verify script (a deployment's own verify script) lives beside
 *   the release. `via: local` runs it on the operator's machine. For a local environment both are the
 *   same machine.
 *
 * A check that could not be run at all (the SSH connection to the target failed, the executor timed out
 * or gave up, no curl/wget/nc on the target) says nothing about the service: it is `ok: false` (a
 * verification cannot pass on it) but also `inconclusive: true`, so the monitor counts it as a
 * measurement error, never as a failed health check.
 */
import net from 'node:net';
import type { HealthCheckConfig } from '../config/schema.js';
import { LocalExecutor } from '../exec/local.js';
import type { Executor, ExecResult } from '../exec/types.js';
import { clipMessage, HEALTH_BODY_LIMIT, prefixMatchHolds, readBounded, tooLargeMessage } from './body.js';

export interface HealthCheckResult {
  ok: boolean;
  /** "http http://127.0.0.1:8080/health", "tcp 127.0.0.1:8080", "command ./verify.sh". */
  name: string;
  latencyMs: number;
  error?: string;
  /** HTTP status, when an HTTP answer arrived. */
  status?: number;
  /** The check could not be run (transport or executor failure): not a verdict on the service. */
  inconclusive?: boolean;
}

export interface HealthCheckContext {
  /** The environment's executor: `via: target` checks run through it. */
  executor: Executor;
  signal?: AbortSignal;
}

type Via = 'local' | 'target';
type Outcome = Omit<HealthCheckResult, 'name' | 'latencyMs'>;

/** Hide credentials in URLs (user:password@, query strings may hold tokens). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = u.username ? '***' : '';
      u.password = u.password ? '***' : '';
    }
    if (u.search) u.search = '?***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@\s]*@/, '//***@');
  }
}

/** A short display name for a check (no secrets). */
export function checkName(check: HealthCheckConfig): string {
  if ('http' in check) return `http ${redactUrl(check.http.url)}`;
  if ('tcp' in check) return `tcp ${check.tcp.host}:${check.tcp.port}`;
  const run = typeof check.command === 'string' ? check.command : check.command.run;
  return `command ${run.length > 60 ? `${run.slice(0, 57)}...` : run}`;
}

function shortError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (err.name === 'TimeoutError') return 'timed out';
    if (err.name === 'AbortError') return 'aborted';
    if (cause instanceof Error) {
      const code = (cause as NodeJS.ErrnoException).code;
      return code ? `${code}: ${cause.message}` : cause.message;
    }
    return err.message;
  }
  return String(err);
}

function tail(text: string, max = 200): string {
  const t = text.trim().split('\n').slice(-3).join(' | ');
  return t.length > max ? `...${t.slice(-max)}` : t;
}

async function httpLocal(
  c: { url: string; status?: number; timeout_seconds?: number; body?: string },
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const timeoutMs = (c.timeout_seconds ?? 5) * 1000;
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (signal) signals.push(signal);
  const expected = c.status ?? 200;
  try {
    const res = await fetch(c.url, { signal: AbortSignal.any(signals), redirect: 'manual' });
    if (res.status !== expected || c.body === undefined) {
      await res.body?.cancel();
      return res.status === expected ? { ok: true, status: res.status } : { ok: false, status: res.status, error: `HTTP ${res.status}, expected ${expected}` };
    }
    // Read no more than the cap, and stop as soon as the pattern matches (where more text cannot undo it).
    const re = new RegExp(c.body);
    const body = await readBounded(res, HEALTH_BODY_LIMIT, prefixMatchHolds(c.body) ? (text) => re.test(text) : undefined);
    if (re.test(body.text) && (body.complete || prefixMatchHolds(c.body))) return { ok: true, status: res.status };
    if (body.tooLarge) return { ok: false, inconclusive: true, status: res.status, error: `${tooLargeMessage(HEALTH_BODY_LIMIT)} (no match for /${c.body}/ in it)` };
    return { ok: false, status: res.status, error: `body does not match /${c.body}/` };
  } catch (err) {
    return { ok: false, error: shortError(err) };
  }
}

function tcpLocal(
  c: { host: string; port: number; timeout_seconds?: number },
  signal: AbortSignal | undefined,
): Promise<Outcome> {
  const timeoutMs = (c.timeout_seconds ?? 5) * 1000;
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve({ ok: false, error: 'aborted' });
    const socket = net.connect({ host: c.host, port: c.port });
    let done = false;
    const finish = (r: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, error: 'aborted' });
    const timer = setTimeout(() => finish({ ok: false, error: `timed out after ${timeoutMs} ms` }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: err.code ?? err.message }));
  });
}

/**
 * Run a trusted command line on this machine, with a timeout, through the local executor: the command
 * (with its `${NAME}` values substituted) goes to `sh` on stdin, so the process list does not show it,
 * and a timeout or cancel ends everything it started.
 */
export async function runLocalShell(
  command: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
  try {
    const r = await new LocalExecutor().shell(command, { timeoutMs, ...(signal ? { signal } : {}) });
    return { exitCode: r.exitCode, output: `${r.stdout}${r.stderr}`, timedOut: r.timedOut };
  } catch (err) {
    // Cancelled (the caller reads its own signal) or `sh` could not be started: a failed check either way.
    return { exitCode: 1, output: err instanceof Error ? err.message : String(err), timedOut: false };
  }
}

const HTTP_VIA_TARGET = `
url="$1"; t="$2"; out="\${3:--}"
if command -v curl >/dev/null 2>&1; then
  curl -sS -o "$out" -w '\\n%{http_code}' --max-time "$t" "$url" || exit 90
elif command -v wget >/dev/null 2>&1; then
  h=$(mktemp) || exit 90
  body=$(wget -q -S -O - -T "$t" "$url" 2>"$h"); code=$(awk '/HTTP\\//{c=$2} END{print c}' "$h"); rm -f -- "$h"
  printf '%s\\n%s' "$body" "\${code:-0}"
else
  echo "neither curl nor wget on the target" >&2; exit 91
fi
`;

/** Exit status of the via-target scripts when the target lacks the tool to probe with. */
const NO_PROBE_TOOL = 91;

const TCP_VIA_TARGET = `
h="$1"; p="$2"; t="$3"
if command -v nc >/dev/null 2>&1; then exec nc -z -w "$t" "$h" "$p"; fi
if command -v bash >/dev/null 2>&1; then exec timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p"; fi
echo "neither nc nor bash on the target" >&2; exit 91
`;

/** A check that could not be run: the executor threw (TransportError: ssh exit 255) or gave up. */
function notRun(executor: Executor, problem: unknown): Outcome {
  const text = typeof problem === 'string' ? problem : shortError(problem);
  return { ok: false, inconclusive: true, error: text.includes(executor.description) ? text : `${executor.description}: ${text}` };
}

/**
 * Run a probe script on the target. The probe's own verdict comes back as an ExecResult; the executor
 * failing to run it (connection, timeout of the whole round trip, missing probe tool) is inconclusive.
 */
async function viaTarget(
  executor: Executor,
  script: string,
  args: string[],
  timeoutMs: number,
  signal: AbortSignal | undefined,
  maxOutputBytes?: number,
): Promise<ExecResult | Outcome> {
  let r: ExecResult;
  try {
    r = await executor.script(script, args, { timeoutMs, signal, ...(maxOutputBytes ? { maxOutputBytes } : {}) });
  } catch (err) {
    return notRun(executor, err);
  }
  if (r.timedOut) return notRun(executor, `no answer within ${timeoutMs} ms`);
  if (r.exitCode === NO_PROBE_TOOL) return notRun(executor, tail(r.stderr) || 'no probe tool on the target');
  return r;
}

/** Run one check. Never throws: an unhealthy service, a timeout or a transport problem is `ok: false` (the last also `inconclusive`). */
export async function runHealthCheck(check: HealthCheckConfig, ctx: HealthCheckContext): Promise<HealthCheckResult> {
  const name = checkName(check);
  const started = performance.now();
  const done = (r: Outcome): HealthCheckResult => ({
    name,
    latencyMs: Math.round(performance.now() - started),
    ...r,
    ...(r.error !== undefined ? { error: clipMessage(r.error) } : {}),
  });
  if (ctx.signal?.aborted) return done({ ok: false, error: 'aborted' });

  if ('http' in check) {
    const c = check.http;
    const via: Via = c.via ?? 'local';
    if (via === 'local') return done(await httpLocal(c, ctx.signal));
    const t = c.timeout_seconds ?? 5;
    // Without `body:` curl drops the body; with it, what comes back is capped (the status line included).
    const args = [c.url, String(t), ...(c.body === undefined ? ['/dev/null'] : [])];
    const r = await viaTarget(ctx.executor, HTTP_VIA_TARGET, args, t * 1000 + 5000, ctx.signal, HEALTH_BODY_LIMIT + 64);
    if ('ok' in r) return done(r);
    if (r.truncated) return done({ ok: false, inconclusive: true, error: tooLargeMessage(HEALTH_BODY_LIMIT) });
    if (r.exitCode !== 0) return done({ ok: false, error: tail(r.stderr) || `exit ${r.exitCode}` });
    const nl = r.stdout.lastIndexOf('\n');
    const status = Number(r.stdout.slice(nl + 1).trim());
    const body = nl >= 0 ? r.stdout.slice(0, nl) : '';
    const expected = c.status ?? 200;
    if (status !== expected) return done({ ok: false, status, error: `HTTP ${status}, expected ${expected}` });
    if (c.body !== undefined && !new RegExp(c.body).test(body)) {
      return done({ ok: false, status, error: `body does not match /${c.body}/` });
    }
    return done({ ok: true, status });
  }

  if ('tcp' in check) {
    const c = check.tcp;
    const via: Via = c.via ?? 'local';
    if (via === 'local') return done(await tcpLocal(c, ctx.signal));
    const t = c.timeout_seconds ?? 5;
    const r = await viaTarget(ctx.executor, TCP_VIA_TARGET, [c.host, String(c.port), String(Math.ceil(t))], t * 1000 + 5000, ctx.signal);
    if ('ok' in r) return done(r);
    return done(r.exitCode === 0 ? { ok: true } : { ok: false, error: tail(r.stderr) || `connection refused (exit ${r.exitCode})` });
  }

  const c = typeof check.command === 'string' ? { run: check.command, timeout_seconds: 30, via: undefined } : check.command;
  const via: Via = c.via ?? 'target';
  const timeoutMs = (c.timeout_seconds ?? 30) * 1000;
  if (via === 'local' || ctx.executor.kind === 'local') {
    const r = await runLocalShell(c.run, timeoutMs, ctx.signal);
    if (r.timedOut) return done({ ok: false, error: `timed out after ${timeoutMs} ms` });
    if (ctx.signal?.aborted) return done({ ok: false, error: 'aborted' });
    return done(r.exitCode === 0 ? { ok: true } : { ok: false, error: `exit ${r.exitCode}${r.output.trim() ? `: ${tail(r.output)}` : ''}` });
  }
  try {
    const r = await ctx.executor.shell(c.run, { timeoutMs, signal: ctx.signal });
    if (r.timedOut) return done({ ok: false, error: `timed out after ${timeoutMs} ms` });
    const out = tail(`${r.stdout}\n${r.stderr}`);
    return done(r.exitCode === 0 ? { ok: true } : { ok: false, error: `exit ${r.exitCode}${out ? `: ${out}` : ''}` });
  } catch (err) {
    // The command never ran: the executor could not reach the target.
    return done(notRun(ctx.executor, err));
  }
}

/** Run all checks concurrently; results in the configured order. */
export function runHealthChecks(checks: readonly HealthCheckConfig[], ctx: HealthCheckContext): Promise<HealthCheckResult[]> {
  return Promise.all(checks.map((c) => runHealthCheck(c, ctx)));
}
