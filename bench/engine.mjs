#!/usr/bin/env node
/**
 * Median wall time of a standard and an emergency rollback of an instant-start service (service
 * commands `true`, one http health check against an already-running server, stability 0): the
 * console's own overhead. Locally, and over loopback SSH when /usr/sbin/sshd exists.
 *
 *   npm run build && node bench/engine.mjs [runs]
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentSchema, PolicySchema } from '../dist/core/config/schema.js';
import { openEnvironment } from '../dist/core/environment.js';
import { RollbackEngine } from '../dist/core/engine/index.js';

const runs = Number(process.argv[2] ?? 7);
const server = http.createServer((_q, r) => r.end('ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

function layout() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-'));
  const backups = path.join(root, 'backups');
  mkdirSync(backups);
  const names = ['backup_20240101_000000', 'backup_20240101_010000', 'backup_20240101_020000'];
  for (const n of names) mkdirSync(path.join(backups, n));
  return { root, backups, names, current: path.join(root, 'current'), state: path.join(root, 'state') };
}

function env(l, executor) {
  const e = EnvironmentSchema.parse({
    executor,
    target: { strategy: 'symlink', backups_dir: l.backups, current: l.current },
    service: { stop: 'true', start: 'true' },
    health: [{ http: { url: `http://127.0.0.1:${port}/`, timeout_seconds: 2 } }],
  });
  const policy = PolicySchema.parse({ rollback: { stability_seconds: 0, poll_interval_seconds: 0.05 } });
  const { policy: _p, ...rest } = e;
  return { ...rest, name: 'bench', policy, state_dir: l.state };
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measure(label, executor) {
  const out = {};
  for (const kind of ['standard', 'emergency']) {
    const times = [];
    for (let i = 0; i < runs; i++) {
      const l = layout();
      symlinkSync(path.join(l.backups, l.names[2]), l.current);
      const handle = openEnvironment(env(l, executor));
      const engine = new RollbackEngine(handle, { version: 'bench' });
      const t0 = performance.now();
      const r = await engine.run({ env: 'bench', kind, reason: 'bench', trigger: 'manual' });
      const ms = performance.now() - t0;
      await handle.close();
      rmSync(l.root, { recursive: true, force: true });
      if (!r.ok) throw new Error(`${label} ${kind} failed: ${r.error}`);
      times.push(ms);
    }
    out[kind] = { median_ms: Math.round(median(times)), min_ms: Math.round(Math.min(...times)), max_ms: Math.round(Math.max(...times)), runs };
  }
  console.log(JSON.stringify({ where: label, ...out }));
}

async function startSshd() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-sshd-'));
  const key = (f) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', f], { stdio: 'ignore' });
  key(path.join(dir, 'host'));
  key(path.join(dir, 'id'));
  writeFileSync(path.join(dir, 'ak'), readFileSync(path.join(dir, 'id.pub')), { mode: 0o600 });
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true });
  const p = await new Promise((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const x = s.address().port;
      s.close(() => r(x));
    });
  });
  writeFileSync(
    path.join(dir, 'sshd_config'),
    `Port ${p}\nListenAddress 127.0.0.1\nHostKey ${dir}/host\nPidFile ${dir}/pid\nAuthorizedKeysFile ${dir}/ak\nStrictModes no\nUsePAM no\nPermitRootLogin yes\nPasswordAuthentication no\nLogLevel ERROR\n`,
  );
  writeFileSync(path.join(dir, 'ssh_config'), `Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile ${dir}/kh\n  LogLevel ERROR\n`);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: 'ignore' });
  const cfg = { type: 'ssh', host: '127.0.0.1', port: p, user: os.userInfo().username, identity_file: path.join(dir, 'id'), ssh_config: path.join(dir, 'ssh_config'), connect_timeout_seconds: 10 };
  for (let i = 0; i < 100; i++) {
    try {
      execFileSync('ssh', ['-F', cfg.ssh_config, '-i', cfg.identity_file, '-p', String(p), '-o', 'BatchMode=yes', `${cfg.user}@127.0.0.1`, 'true'], { stdio: 'ignore', timeout: 10_000 });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { cfg, stop: () => (child.kill(), rmSync(dir, { recursive: true, force: true })) };
}

console.log(JSON.stringify({ load_average: os.loadavg().map((x) => Math.round(x * 100) / 100), cpus: os.cpus().length }));
await measure('local', { type: 'local' });
if (existsSync('/usr/sbin/sshd')) {
  const sshd = await startSshd();
  try {
    await measure('loopback ssh', sshd.cfg);
  } finally {
    sshd.stop();
  }
}
server.close();
