/**
 * The speed figures of the issue table that need their own set-up (bench/run.mjs sections `startup`,
 * `console_idle` and `demo`), and the table itself: every figure side by side with its target, by hand
 * and the original script's flow where they exist, with ratios.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN, SERVICE, Tmux, cli, expectCode, freePort, makeStore, q, run, summary, tmpDir, tmuxAvailable, waitFor, writeConfig } from './lib.mjs';

/** `rollback-tui --version` against a bare `node -e 0` (the floor: Node's own start-up). */
export async function benchStartup({ n }) {
  const tool = [];
  const bare = [];
  for (let i = 0; i < n; i++) {
    tool.push(expectCode(await cli(['--version']), '--version').ms);
    bare.push(expectCode(await run(process.execPath, ['-e', '0']), 'node -e 0').ms);
  }
  return { version: summary(tool), node_floor: summary(bare) };
}

/** Every process in the tree under `pid` (itself included), from /proc. */
export function tree(pid) {
  const children = new Map();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return out;
}

/** CPU seconds of a process tree, children that already exited included (cutime/cstime). */
export function treeCpuSeconds(pid) {
  const hz = 100;
  let ticks = 0;
  for (const p of tree(pid)) {
    try {
      const f = fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // exited between the listing and the read: its time is in its parent's cutime now
    }
  }
  return ticks / hz;
}

export function rssMiBOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : null;
}

/**
 * The console at rest on a healthy service, the monitor every 1 s with the probe metrics source: CPU of
 * the console and everything it runs, and the console's RSS, over `observeS` seconds after the first frame.
 */
export async function benchConsoleIdle({ quick, cleanups }) {
  if (!tmuxAvailable() || !fs.existsSync('/proc')) return { skipped: 'needs tmux and /proc' };
  const dir = tmpDir('console-idle');
  const port = await freePort();
  const store = makeStore(dir, 3);
  const pidFile = path.join(dir, 'service.pid');
  const node = q(process.execPath);
  const stop = `${node} ${q(SERVICE)} --stop --pid-file ${q(pidFile)}`;
  cleanups.push(async () => {
    await run('sh', ['-c', stop]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const env = {
    target: { strategy: 'symlink', backups_dir: store.releasesDir, current: store.current },
    service: { start: `${node} ${q(SERVICE)} --port ${port} --release-dir ${q(store.current)} --pid-file ${q(pidFile)} --daemon`, stop },
    health: [{ http: { url: `http://127.0.0.1:${port}/health`, timeout_seconds: 2 } }],
    metrics: { source: 'probe' },
    state_dir: path.join(dir, 'state'),
  };
  const config = writeConfig(dir, { idle: env }, { enabled: true, monitoring: { check_interval_seconds: 1, baseline_window_minutes: 0.05 } });
  expectCode(await run('sh', ['-c', env.service.start]), 'service start');
  await waitFor(async () => (await fetch(env.health[0].http.url).then((r) => r.status, () => 0)) === 200, 'the service');
  const observeS = quick ? 3 : 20;
  const tmux = new Tmux();
  try {
    await tmux.start(`exec ${node} ${q(BIN)} --config ${q(config)} --env idle`, { env: { TERM: 'xterm-256color' } });
    await waitFor(async () => (await tmux.screen()).includes(store.names[2]), 'the console', 30_000);
    const pane = Number((await run('tmux', ['-L', tmux.socket, 'display-message', '-p', '-t', '0', '#{pane_pid}'])).stdout.trim());
    // Settle: the first samples and the baseline.
    await new Promise((r) => setTimeout(r, 2000));
    const c0 = treeCpuSeconds(pane);
    const t0 = performance.now();
    const rss = [];
    for (let s = 0; s < observeS; s++) {
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(rssMiBOf(pane));
    }
    const cpu = ((treeCpuSeconds(pane) - c0) / ((performance.now() - t0) / 1000)) * 100;
    await tmux.keys('q');
    return {
      observed_seconds: observeS,
      check_interval_seconds: 1,
      metrics_source: 'probe',
      cpu_percent_of_one_core: Math.round(cpu * 100) / 100,
      rss_mib: summary(rss.filter((x) => x !== null), 'MiB'),
      rss_mib_last: rss.at(-1),
    };
  } finally {
    await tmux.kill();
  }
}

/**
 * The stages of the demo's story as the screen shows them, in order: each is timed at the first frame
 * that shows it. The result banner stays until Esc, so the last stage cannot be missed between polls.
 */
const DEMO_STAGES = [
  ['first_frame', (s) => /DEMO/.test(s) && /Backups/.test(s)],
  ['baseline_established', (s) => /baseline for /.test(s) || /│ watching │/.test(s)],
  ['memory_warning', (s) => /memory +! warning/.test(s)],
  ['countdown', (s) => /AUTOMATIC ROLLBACK in \d/.test(s)],
  ['rolling_back', (s) => /ROLLING BACK/.test(s)],
  ['rolled_back', (s) => /\[auto\] ✓ Rolled back demo/.test(s)],
];

/** `rollback-tui demo` in a 120x40 pane: launch to the automatic rollback on screen, and when each stage appeared. */
export async function benchDemo({ n, quick, cleanups }) {
  if (!tmuxAvailable()) return { skipped: 'tmux is not installed' };
  // The demo's own time scale is the figure; quick mode (CI) runs it three times faster.
  const speed = quick ? 0.3 : 1;
  const parent = tmpDir('demo');
  cleanups.push(() => fs.rmSync(parent, { recursive: true, force: true }));
  const values = [];
  const stages = Object.fromEntries(DEMO_STAGES.map(([name]) => [name, []]));
  for (let i = 0; i < Math.min(n, 3); i++) {
    const tmux = new Tmux();
    try {
      const t0 = performance.now();
      await tmux.start(`env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo --speed ${speed}`, { env: { TERM: 'xterm-256color' } });
      const seen = {};
      let last = '';
      await waitFor(async () => {
        last = await tmux.screen();
        const at = performance.now() - t0;
        for (const [name, shows] of DEMO_STAGES) if (seen[name] === undefined && shows(last)) seen[name] = at;
        return seen.rolled_back !== undefined;
      }, 'the automatic rollback on screen', 240_000).catch((err) => {
        throw new Error(`${err.message}; stages seen: ${JSON.stringify(seen)}; screen:\n${last}`);
      });
      values.push(seen.rolled_back);
      for (const [name] of DEMO_STAGES) if (seen[name] !== undefined) stages[name].push(seen[name]);
      await tmux.keys('q');
      await waitFor(() => fs.readdirSync(parent).length === 0, 'the demo to clean up', 60_000).catch(() => undefined);
    } finally {
      await tmux.kill();
    }
  }
  const stageFigures = Object.fromEntries(Object.entries(stages).filter(([, v]) => v.length > 0).map(([k, v]) => [k, summary(v)]));
  return { speed, launch_to_automatic_rollback: summary(values), stages_from_launch: stageFigures };
}

// ------------------------------------------------------------------------------------------------
// the table

const fmtMs = (v) => (v === null || v === undefined ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v).toLocaleString('en')} ms`);

/** Rows of the issue table from a results document: [figure, tool, by hand, original script, ratio, target]. */
export function issueRows(results) {
  const s = results.sections;
  const rows = [];
  const rec = (where) => s.recovery?.cases?.find((c) => c.where === where);
  const recoveryRow = (label, c, target) => {
    if (!c) return;
    rows.push([
      label,
      `${fmtMs(c.tool.recovery.median)} (minus by hand: ${fmtMs(c.tool_minus_by_hand_ms)})`,
      fmtMs(c.by_hand.recovery.median),
      fmtMs(c.script.recovery.median),
      `script / tool x${c.script_over_tool}`,
      target,
    ]);
  };
  recoveryRow('time to recovery, local (tool minus by hand)', rec('local'), '<= 150 ms');
  const local = rec('local');
  if (local) {
    rows.push([
      'whole CLI run of a standard rollback',
      fmtMs(local.tool.total.median),
      fmtMs(local.by_hand.total.median),
      fmtMs(local.script.total.median),
      `script / tool x${Math.round((local.script.total.median / local.tool.total.median) * 10) / 10}`,
      '<= 600 ms',
    ]);
  }
  if (s.startup?.version) rows.push(['rollback-tui --version', fmtMs(s.startup.version.median), `node -e 0: ${fmtMs(s.startup.node_floor.median)}`, '', '', '<= 150 ms']);
  if (s.console?.first_full_frame) rows.push(['console: launch to first frame with backups (tmux 120x40)', fmtMs(s.console.first_full_frame.median), '', '', '', '<= 400 ms']);
  if (s.console_idle?.cpu_percent_of_one_core !== undefined) {
    rows.push(['idle console, monitor every 1 s, probe source: CPU incl. children', `${s.console_idle.cpu_percent_of_one_core} % of a core`, '', '', '', '<= 1 %']);
    rows.push(['idle console RSS', `${s.console_idle.rss_mib.median} MiB (last ${s.console_idle.rss_mib_last})`, '', '', '', '<= 100 MB, flat']);
  }
  if (s.scale?.stats_100000_lines) rows.push(['stats over 100,000 history lines', fmtMs(s.scale.stats_100000_lines.median), '', '', '', '<= 500 ms']);
  if (s.scale?.list_ssh_1000_backups) rows.push(['list of 1,000 backups over loopback SSH, whole CLI run', fmtMs(s.scale.list_ssh_1000_backups.median), '', '', '', '<= 500 ms']);
  recoveryRow('warm loopback SSH: time to recovery (tool minus by hand)', rec('ssh'), '<= 300 ms');
  if (s.demo?.launch_to_automatic_rollback) {
    rows.push([`demo: launch to the automatic rollback on screen (--speed ${s.demo.speed})`, fmtMs(s.demo.launch_to_automatic_rollback.median), '', '', '', '<= 30 s']);
  }
  return rows;
}

export function issueTable(results) {
  const head = ['figure', 'tool', 'by hand', 'original script', 'ratio', 'target'];
  const rows = issueRows(results);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
