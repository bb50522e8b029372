#!/usr/bin/env node
/**
 * `npm run screenshots`: pictures of the console as a person sees it, to check that the charts read.
 * For each size (80x24, 120x40, 200x60) it runs `rollback-tui demo` in a tmux pane, waits until the
 * demo's sick release has been rolled back (so the charts hold a breach and a rollback mark), captures
 * the main view and the charts view (`g`) with their colours (`tmux capture-pane -e`), turns them into
 * HTML with `aha` and into PNG with headless Chromium. Pictures go to screenshots/ (ignored by git).
 *
 *   node scripts/screenshots.mjs [--sizes 80x24,120x40,200x60] [--out DIR] [--no-color]
 *
 * Needs tmux, aha and chromium (Debian: `apt-get install tmux aha chromium`); run `npm run build` first
 * (the npm script does).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const sizes = opt('--sizes', '80x24,120x40,200x60').split(',').map((s) => s.split('x').map(Number));
const out = path.resolve(opt('--out', path.join(ROOT, 'screenshots')));
const noColor = args.includes('--no-color');
const SOCKET = `rtui-shots-${process.pid}`;

function need(cmd) {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) {
    console.error(`screenshots: ${cmd} is not installed (Debian: apt-get install ${cmd === 'chromium' ? 'chromium' : cmd})`);
    process.exit(1);
  }
}
for (const c of ['tmux', 'aha', 'chromium']) need(c);

function tmux(...a) {
  const r = spawnSync('tmux', ['-L', SOCKET, ...a], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tmux ${a.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(check, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`screenshots: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function picture(name, width, height) {
  const ansi = tmux('capture-pane', '-e', '-p', '-t', 'shot');
  fs.writeFileSync(path.join(out, `${name}.ansi`), ansi);
  const html = spawnSync('aha', ['--black', '--title', name], { input: ansi, encoding: 'utf8' }).stdout.replace(
    '<pre>',
    '<pre style="font-family: \'DejaVu Sans Mono\', monospace; font-size: 14px; line-height: 1.15; margin: 0">',
  );
  const htmlFile = path.join(out, `${name}.html`);
  fs.writeFileSync(htmlFile, html);
  // A monospace cell is about 8.5 x 16 px at 14px.
  const size = `${Math.ceil(width * 8.6) + 16},${Math.ceil(height * 16.2) + 16}`;
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--window-size=${size}`, `--screenshot=${path.join(out, `${name}.png`)}`, `file://${htmlFile}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`chromium: ${r.stderr}`);
  console.log(`screenshots: ${path.join(out, `${name}.png`)}`);
}

fs.mkdirSync(out, { recursive: true });
try {
  for (const [width, height] of sizes) {
    const env = noColor ? 'NO_COLOR=1 ' : '';
    tmux('new-session', '-d', '-x', String(width), '-y', String(height), '-s', 'shot', `${env}TERM=xterm-256color node ${path.join(ROOT, 'bin', 'rollback-tui.js')} demo --speed 0.5`);
    const screen = () => tmux('capture-pane', '-p', '-t', 'shot');
    // The demo's sick release breaches, the monitor rolls back, and the new live release is watched.
    await waitFor(() => /rolled back|automatic rollback (done|finished|succeeded)|✓ verified/i.test(screen()), 'the automatic rollback', 180_000);
    await waitFor(() => /watching/.test(screen()), 'the monitor watching again', 60_000);
    const tag = `${width}x${height}${noColor ? '-nocolor' : ''}`;
    picture(`main-${tag}`, width, height);
    tmux('send-keys', '-t', 'shot', 'g');
    await waitFor(() => /Charts\s/.test(screen()), 'the charts view', 10_000);
    picture(`charts-${tag}`, width, height);
    tmux('send-keys', '-t', 'shot', 'q');
    spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', 'shot']);
  }
} finally {
  spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
}
