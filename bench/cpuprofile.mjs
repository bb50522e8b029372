#!/usr/bin/env node
/**
 * Where the milliseconds of a CLI run go: runs the built CLI under `node --cpu-prof` and sums the
 * profile's self time by origin. Inside the esbuild bundle (dist/app/) every sample is attributed to the
 * module it came from through the `// path/to/module.js` comments esbuild writes before each module, so
 * the table names packages (zod, yaml, commander, ...) and source folders (src/core/config, ...), not
 * chunk files. Node's own start-up appears as `node:internal` and `(program)` (compiling and V8 work
 * outside JavaScript).
 *
 *   node bench/cpuprofile.mjs [--runs N] [--top N] -- <rollback-tui arguments>
 *   node bench/cpuprofile.mjs --version
 *
 * Prints the median wall time of N runs and the self time by origin of the last run's profile.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// RTUI_BENCH_BIN: another build's bin (module comments are read from the files the profile names).
const BIN = process.env.RTUI_BENCH_BIN ? path.resolve(process.env.RTUI_BENCH_BIN) : path.join(ROOT, 'bin', 'rollback-tui.js');

/** Module markers of one bundled file: sorted [line, origin] (line is 0-based, as in profiles). */
const markerCache = new Map();
function markers(file) {
  let m = markerCache.get(file);
  if (m) return m;
  m = [];
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // not a readable file (node:internal, eval)
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const hit = /^\/\/ (\S+\.(?:[cm]?js|tsx?|json))$/.exec(lines[i]);
    if (hit) m.push([i, originOf(hit[1])]);
  }
  markerCache.set(file, m);
  return m;
}

/** `../../x/node_modules/zod/v4/core/x.js` -> `zod`; `src/core/config/load.ts` -> `src/core/config`. */
function originOf(p) {
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = p.indexOf('src/');
  if (src >= 0) return path.dirname(p.slice(src));
  return p;
}

function attribute(frame) {
  const { url, functionName, lineNumber } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const file = url.startsWith('file://') ? fileURLToPath(url) : url;
  const ms = markers(file);
  let origin = path.relative(ROOT, file);
  for (const [line, o] of ms) {
    if (line > lineNumber) break;
    origin = o;
  }
  // Top-level code of a chunk before its first module comment: esbuild's runtime and the chunk's imports.
  return origin;
}

/** {origin: self ms} of a .cpuprofile. */
export function selfTimeByOrigin(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]);
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const key = attribute(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + dt);
  }
  return self;
}

function parse(argv) {
  const o = { runs: 5, top: 15, args: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--top') o.top = Number(argv[++i]);
    else if (a === '--') {
      o.args = argv.slice(i + 1);
      break;
    } else {
      o.args = argv.slice(i);
      break;
    }
  }
  return o;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = parse(process.argv.slice(2));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rtui-cpuprof-'));
  const walls = [];
  try {
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, BIN, ...o.args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      walls.push(performance.now() - t0);
      if (r.status !== 0 && i === 0) process.stderr.write(`note: exit ${r.status}\n${r.stderr.slice(-500)}`);
    }
    const profiles = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const profile = JSON.parse(fs.readFileSync(path.join(dir, profiles.at(-1)), 'utf8'));
    const self = selfTimeByOrigin(profile);
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    const sorted = [...walls].sort((a, b) => a - b);
    process.stdout.write(`rollback-tui ${o.args.join(' ')}\n`);
    process.stdout.write(`wall (with --cpu-prof) median ${sorted[sorted.length >> 1].toFixed(0)} ms of ${o.runs} (min ${sorted[0].toFixed(0)}), profiled ${total.toFixed(0)} ms:\n`);
    for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, o.top)) {
      process.stdout.write(`  ${v.toFixed(1).padStart(7)} ms  ${k}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
