#!/usr/bin/env node
/**
 * The console's memory over a long run: `rollback-tui demo` in a 120x40 tmux pane (the leak, the
 * automatic rollback, then the healthy release at rest) for `--minutes` minutes, the console's RSS and
 * the CPU of its process tree sampled every `--every` seconds. Writes the curve to bench/results/soak.json
 * (or `--out`) and prints it as a table. Not part of the default `npm run bench` (it takes the minutes it
 * is given): `node bench/run.mjs --soak` runs it too.
 *
 *   node bench/soak.mjs [--minutes 10] [--every 10] [--out FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, ROOT, Tmux, machine, q, run, tmpDir, tmuxAvailable, waitFor } from './lib.mjs';
import { rssMiBOf, treeCpuSeconds } from './table.mjs';

export async function soak({ minutes = 10, everyS = 10, log = () => undefined } = {}) {
  if (!tmuxAvailable() || !fs.existsSync('/proc')) return { skipped: 'needs tmux and /proc' };
  const parent = tmpDir('soak');
  const tmux = new Tmux();
  const points = [];
  try {
    await tmux.start(`exec env TMPDIR=${q(parent)} ${q(process.execPath)} ${q(BIN)} demo`, { env: { TERM: 'xterm-256color' } });
    await waitFor(async () => /Backups/.test(await tmux.screen()), 'the demo console', 60_000);
    const pane = Number((await run('tmux', ['-L', tmux.socket, 'display-message', '-p', '-t', '0', '#{pane_pid}'])).stdout.trim());
    const t0 = Date.now();
    let cpu = treeCpuSeconds(pane);
    let last = t0;
    const total = Math.round((minutes * 60) / everyS);
    for (let i = 0; i <= total; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, t0 + i * everyS * 1000 - Date.now()));
      const now = Date.now();
      const c = treeCpuSeconds(pane);
      const point = {
        t_s: Math.round((now - t0) / 1000),
        rss_mib: rssMiBOf(pane),
        cpu_percent: i === 0 ? null : Math.round(((c - cpu) / ((now - last) / 1000)) * 1000) / 10,
      };
      cpu = c;
      last = now;
      points.push(point);
      log(`  ${String(point.t_s).padStart(5)} s  ${String(point.rss_mib).padStart(6)} MiB  ${point.cpu_percent === null ? '' : `${point.cpu_percent} %`}`);
    }
    const screen = await tmux.screen();
    await tmux.keys('q');
    await waitFor(() => fs.readdirSync(parent).length === 0, 'the demo to clean up', 60_000).catch(() => undefined);
    const rss = points.map((p) => p.rss_mib).filter((x) => x !== null);
    const firstMinute = rss.slice(0, Math.max(1, Math.round(60 / everyS)));
    const lastMinute = rss.slice(-Math.max(1, Math.round(60 / everyS)));
    const mean = (a) => Math.round((a.reduce((x, y) => x + y, 0) / a.length) * 10) / 10;
    return {
      minutes,
      every_seconds: everyS,
      rolled_back: /rolled back/i.test(screen),
      rss_mib_max: Math.max(...rss),
      rss_mib_first_minute_mean: mean(firstMinute),
      rss_mib_last_minute_mean: mean(lastMinute),
      points,
    };
  } finally {
    await tmux.kill();
    fs.rmSync(parent, { recursive: true, force: true });
  }
}

/** The curve as a small table: one row a minute (every sample when the run is shorter than 3 minutes). */
export function soakTable(result) {
  const step = result.minutes >= 3 ? Math.max(1, Math.round(60 / result.every_seconds)) : 1;
  const rows = result.points.filter((_, i) => i % step === 0 || i === result.points.length - 1);
  const lines = ['| t | RSS | CPU (since the previous sample) |', '|---|---|---|'];
  for (const p of rows) lines.push(`| ${p.t_s} s | ${p.rss_mib} MiB | ${p.cpu_percent === null ? '-' : `${p.cpu_percent} %`} |`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  const minutes = Number(opt('--minutes', '10'));
  const everyS = Number(opt('--every', '10'));
  const out = path.resolve(opt('--out', path.join(ROOT, 'bench', 'results', 'soak.json')));
  const result = await soak({ minutes, everyS, log: (l) => process.stdout.write(`${l}\n`) });
  const doc = { date: new Date().toISOString(), machine: machine(), bin: BIN, ...result };
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
  if (result.skipped) process.stdout.write(`soak skipped: ${result.skipped}\n`);
  else process.stdout.write(`${soakTable(result)}\n\nwritten to ${path.relative(process.cwd(), out)}\n`);
}
