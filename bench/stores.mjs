// Store timings (never asserted in tests): median `list` of 1,000 backups and median switch, locally and
// over loopback SSH with a warm multiplexed connection. Needs `npm run build` and /usr/sbin/sshd.
//   node bench/stores.mjs [runs]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { LocalExecutor, SshExecutor } from '../dist/core/exec/index.js';
import { SymlinkReleaseStore } from '../dist/core/stores/symlink.js';

const runs = Number(process.argv[2] ?? 15);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(fn) {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function layout() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-'));
  const bd = path.join(root, 'backups');
  mkdirSync(bd);
  const names = [];
  for (let i = 0; i < 1000; i++) {
    const d = new Date(Date.UTC(2024, 0, 1) + i * 60_000);
    const n = `backup_${d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '_')}`;
    mkdirSync(path.join(bd, n));
    writeFileSync(path.join(bd, n, 'VERSION'), n);
    names.push(n);
  }
  symlinkSync(path.join(bd, names[999]), path.join(root, 'current'));
  return { root, bd, names, current: path.join(root, 'current') };
}

async function startSshd({ hermeticHome }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rtui-bench-sshd-'));
  for (const k of ['host', 'id']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, k)]);
  writeFileSync(path.join(dir, 'ak'), readFileSync(path.join(dir, 'id.pub')));
  const port = await new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
  mkdirSync('/run/sshd', { recursive: true });
  writeFileSync(path.join(dir, 'cfg'), `Port ${port}\nListenAddress 127.0.0.1\nHostKey ${dir}/host\nPidFile ${dir}/pid\nAuthorizedKeysFile ${dir}/ak\nStrictModes no\nUsePAM no\nPermitRootLogin yes\nMaxSessions 100\nLogLevel ERROR\n${hermeticHome ? `SetEnv HOME=${dir}\n` : ''}`);
  writeFileSync(path.join(dir, 'ssh_config'), `Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile ${dir}/kh\n  LogLevel ERROR\n`);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'cfg')], { stdio: 'ignore' });
  const cfg = { type: 'ssh', host: '127.0.0.1', port, user: os.userInfo().username, identity_file: path.join(dir, 'id'), ssh_config: path.join(dir, 'ssh_config'), connect_timeout_seconds: 5 };
  for (let i = 0; i < 100; i++) {
    try { execFileSync('ssh', ['-F', cfg.ssh_config, '-i', cfg.identity_file, '-p', String(port), '-o', 'BatchMode=yes', '--', '127.0.0.1', 'true'], { stdio: 'ignore' }); break; }
    catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  return { cfg, stop: () => { child.kill(); rmSync(dir, { recursive: true, force: true }); } };
}

async function bench(label, executor) {
  const l = layout();
  const store = new SymlinkReleaseStore({ strategy: 'symlink', backups_dir: l.bd, current: l.current, pattern: 'backup_*' }, executor, null, 'bench');
  await store.list(); // warm (ssh: opens the master connection)
  const lists = [];
  for (let i = 0; i < runs; i++) lists.push(await time(() => store.list()));
  const switches = [];
  for (let i = 0; i < runs; i++) switches.push(await time(() => store.switchTo(l.names[i % 2 === 0 ? 998 : 999])));
  const noop = [];
  for (let i = 0; i < runs; i++) noop.push(await time(() => executor.script('true')));
  console.log(`${label.padEnd(6)} list(1000) median ${median(lists).toFixed(1)} ms   switch median ${median(switches).toFixed(1)} ms   empty script median ${median(noop).toFixed(1)} ms`);
  rmSync(l.root, { recursive: true, force: true });
}

await bench('local', new LocalExecutor());
// ssh: once with a clean HOME (the tool's own cost), once with the login user's real rc files.
for (const hermeticHome of [true, false]) {
  const sshd = await startSshd({ hermeticHome });
  const ssh = new SshExecutor(sshd.cfg);
  try {
    await bench(hermeticHome ? 'ssh' : 'ssh+rc', ssh);
  } finally {
    await ssh.close();
    sshd.stop();
  }
}
