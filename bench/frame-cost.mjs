#!/usr/bin/env node
/**
 * What one frame of the idle console costs: the dashboard at 120x40 (braille charts), fed one monitor
 * sample per frame as a healthy service gives them, rendered by ink into an in-memory terminal. Prints the
 * CPU milliseconds per frame (user + system of this process, after a warm-up) and the bytes ink writes per
 * frame (and a hash of everything written, to compare builds frame for frame). No tmux, no service: the console's own drawing cost, steadier than a whole-process figure on a
 * busy machine. The console's code, React and ink are bundled from src/ first with the CLI bundle's own
 * plugins and defines (scripts/bundle-plugins.mjs), so the frame is the one that ships.
 *
 *   node bench/frame-cost.mjs [--frames N] [--width W] [--height H] [--uncached] [--check]
 *
 * --uncached leaves out the cross-frame caches of ink's measuring and tokenizing (for a before figure).
 * --check draws every frame whole and at once (ink's debug mode, no throttling that could merge two
 * frames on a busy machine), so that the hash of the output compares builds frame for frame.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { BUNDLE_DEFINE, frameCaches } from '../scripts/bundle-plugins.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-frame-cost-'));
const entry = path.join(tmp, 'entry.ts');
const src = (p) => JSON.stringify(path.join(ROOT, 'src', p));
fs.writeFileSync(
  entry,
  [
    "export { default as React } from 'react';",
    "export { render } from 'ink';",
    `export { App } from ${src('ui/app.tsx')};`,
    `export { initialState, reducer } from ${src('ui/state/reducer.ts')};`,
    `export { DEFAULT_THEME } from ${src('ui/theme.ts')};`,
    `export { emptySample } from ${src('core/monitor/sources/sample.ts')};`,
  ].join('\n'),
);
try {
  await build({
    absWorkingDir: ROOT,
    entryPoints: { console: entry },
    nodePaths: [path.join(ROOT, 'node_modules')],
    outdir: path.join(tmp, 'out'),
    // ink imports the React devtools lazily (never at run time here): a chunk of its own, not loaded.
    splitting: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['react-devtools-core'],
    plugins: process.argv.includes('--uncached') ? [] : [frameCaches],
    define: BUNDLE_DEFINE,
    logLevel: 'warning',
    banner: { js: "import { createRequire as __rtCreateRequire } from 'node:module'; const require = __rtCreateRequire(import.meta.url);" },
  });
} catch (err) {
  fs.rmSync(tmp, { recursive: true, force: true });
  throw err;
}
const { React, render, App, initialState, reducer, DEFAULT_THEME, emptySample } = await import(pathToFileURL(path.join(tmp, 'out', 'console.js')).href);
fs.rmSync(tmp, { recursive: true, force: true });

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const frames = arg('--frames', 200);
const width = arg('--width', 120);
const height = arg('--height', 40);
const warmup = Math.min(50, Math.floor(frames / 4));

class Terminal extends Writable {
  columns = width;
  rows = height;
  isTTY = true;
  bytes = 0;
  hash = createHash('sha256');
  _write(chunk, _enc, cb) {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    cb();
  }
}

const release = 'backup_20261204_120000';
const t0 = Date.now() - 3_600_000;
let state = initialState(
  { name: 'idle', host: 'local', confirm: 'none', isProd: false, strategy: 'symlink', automationEnabled: true, graceSeconds: 30 },
  t0,
);
state = reducer(state, {
  type: 'backups/loaded',
  backups: [0, 1, 2].map((i) => ({ name: `backup_2026120${4 - i}_120000`, created: '', createdMs: t0 - i * 86_400_000, sizeBytes: 8192, current: i === 0, knownGood: i === 0, bad: false })),
});
const trigger = (name, value, threshold, baseline, unit) => ({ name, status: 'ok', value, threshold, baseline, unit, samplesInWindow: 30, samplesNeeded: 30, explanation: `${name} fine` });
const monitorState = (i) => ({
  env: 'idle',
  phase: 'watching',
  live: release,
  baseline: { release, timestamp: new Date(t0).toISOString(), samples: 30, healthy: true, metrics: { error_rate: 0, p50_latency_ms: 4, p95_latency_ms: 6, p99_latency_ms: 8, memory_usage_percent: 40, cpu_usage_percent: null, request_rate: null } },
  baselineProgress: null,
  triggers: [trigger('error_rate', 0, 6, 0, '/min'), trigger('latency', 5 + (i % 3), 60, 6, 'ms'), trigger('memory', 40, 90, 40, '%'), trigger('health_check', 0, 3, null, 'failures')],
  automation: 'armed',
  graceRemainingSeconds: null,
  consecutiveInconclusive: 0,
  lastSample: null,
});
const sample = (i) => ({
  ...emptySample(t0 + i * 1000, release),
  up: true,
  error_rate: 0,
  p50_latency_ms: 4,
  p95_latency_ms: 4 + (i % 7),
  p99_latency_ms: 9,
  memory_usage_percent: 40 + (i % 3) / 10,
});
const tick = (i) => {
  state = reducer(state, { type: 'monitor/events', events: [{ event: { type: 'sample', sample: sample(i) }, at: t0 + i * 1000 }, { event: { type: 'state', state: monitorState(i) }, at: t0 + i * 1000 }] });
};
// A full chart: the series the console holds after ten minutes.
for (let i = 0; i < 600; i++) tick(i);

const listeners = new Set();
const controller = {
  subscribe: (l) => (listeners.add(l), () => listeners.delete(l)),
  getState: () => state,
  handleKey: () => undefined,
  clock: null,
};
const stdout = new Terminal();
const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => undefined, ref: () => undefined, unref: () => undefined });
let rendered = () => undefined;
const instance = render(React.createElement(App, { controller, theme: DEFAULT_THEME, size: { columns: width, rows: height } }), {
  stdout,
  stdin,
  stderr: new Terminal(),
  exitOnCtrlC: false,
  patchConsole: false,
  debug: process.argv.includes('--check'),
  maxFps: 0,
  onRender: () => rendered(),
});
const frameDone = () => new Promise((r) => (rendered = r));
let cpu0 = null;
let bytes0 = 0;
for (let i = 600; i < 600 + frames; i++) {
  if (i === 600 + warmup) {
    cpu0 = process.cpuUsage();
    bytes0 = stdout.bytes;
  }
  tick(i);
  const done = frameDone();
  for (const l of listeners) l();
  await done;
}
const used = process.cpuUsage(cpu0);
const measured = frames - warmup;
instance.unmount();
const perFrame = (used.user + used.system) / 1000 / measured;
const doc = { width, height, frame_caches: !process.argv.includes('--uncached'), frames: measured, cpu_ms_per_frame: Math.round(perFrame * 100) / 100, bytes_per_frame: Math.round((stdout.bytes - bytes0) / measured), rss_mib: Math.round(process.memoryUsage().rss / 1048576), output_sha256: stdout.hash.digest('hex') };
process.stdout.write(`${JSON.stringify(doc)}\n`);
