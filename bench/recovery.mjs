/**
 * Time to recovery, side by side (bench/run.mjs, section `recovery`): a standard rollback of a real HTTP
 * service (demo/service.mjs, which answers as soon as it listens) by
 *   - the tool: `rollback-tui rollback --yes --json`, the benchmark policy (stability 0, poll 0.05 s,
 *     one http health check);
 *   - hand: the same operations in one shell: stop; `ln -s` + `mv -T`; start; poll the health URL;
 *   - the original script: stop; sleep 2; switch; start; sleep 3; sleep 5; one health check.
 * Recovery is from the command's start to the first answer of the target release on its health URL,
 * seen by the bench polling every 5 ms; "total" is the whole command. Locally, and over loopback SSH,
 * where all three go through an already open (warm) master connection, as an operator's open session
 * would: the ssh environment's configuration multiplexes (ControlMaster auto, a ControlPath and
 * ControlPersist, as an operator's ~/.ssh/config would), so the tool reuses that master as plain ssh does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN, SERVICE, expectCode, freePort, makeStore, mvNoFollowFlag, pointCurrent, q, run, summary, tmpDir, waitFor, writeConfig } from './lib.mjs';

export const BENCH_POLICY = {
  enabled: false,
  rollback: { stability_seconds: 0, poll_interval_seconds: 0.05, health_check_timeout_seconds: 20 },
};

/** The service's answer on /health: {status, version} or null. */
async function health(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    return { code: r.status, ...(await r.json()) };
  } catch {
    return null;
  }
}

export async function fixture(sshd) {
  const dir = tmpDir('recovery');
  const port = await freePort();
  const store = makeStore(dir, 3);
  const pid = path.join(dir, 'service.pid');
  const node = q(process.execPath);
  const start = `${node} ${q(SERVICE)} --port ${port} --release-dir ${q(store.current)} --pid-file ${q(pid)} --daemon`;
  const stop = `${node} ${q(SERVICE)} --stop --pid-file ${q(pid)}`;
  const url = `http://127.0.0.1:${port}/health`;
  const envBase = {
    target: { strategy: 'symlink', backups_dir: store.releasesDir, current: store.current },
    service: { start, stop, timeout_seconds: 20 },
    health: [{ http: { url, timeout_seconds: 2 } }],
  };
  const envs = { local: { ...envBase, state_dir: path.join(dir, 'state-local') } };
  const control = path.join(dir, 'warm.sock');
  if (sshd) {
    const options = { ControlMaster: 'auto', ControlPath: control, ControlPersist: '300' };
    envs.ssh = { ...envBase, executor: { ...sshd.executor, options }, state_dir: path.join(dir, 'state-ssh') };
  }
  const config = writeConfig(dir, envs, BENCH_POLICY);
  const newest = path.join(store.releasesDir, store.names[2]);
  const target = path.join(store.releasesDir, store.names[1]);
  const mv = mvNoFollowFlag();
  const sw = [`ln -s ${q(target)} ${q(`${store.current}.new`)}`, `mv ${mv} ${q(`${store.current}.new`)} ${q(store.current)}`];
  const scripts = {
    by_hand: ['set -e', stop, ...sw, start, `until curl -fs ${q(url)} >/dev/null; do sleep 0.05; done`],
    script: ['set -e', stop, 'sleep 2', ...sw, start, 'sleep 3', 'sleep 5', `curl -fs ${q(url)} >/dev/null`],
  };
  const reset = async () => {
    await run('sh', ['-c', stop]);
    pointCurrent(store.current, newest);
    for (const s of ['local', 'ssh']) fs.rmSync(path.join(dir, `state-${s}`, 'marks.json'), { force: true });
    expectCode(await run('sh', ['-c', start]), 'service start');
    await waitFor(async () => (await health(port))?.version === 'r3', 'the service on the newest release');
  };
  return { dir, port, config, control, scripts, reset, stop: () => run('sh', ['-c', stop]), mv };
}

/** Run `launch()` (a child process), polling the health URL; resolves {recovery, total} in ms. */
export async function timed(launch, port, what) {
  const t0 = performance.now();
  let recovered = null;
  let done = false;
  const child = launch().then((r) => {
    done = true;
    return r;
  });
  while (!done && recovered === null) {
    const h = await health(port);
    if (h?.code === 200 && h.version === 'r2') recovered = performance.now() - t0;
    else await new Promise((r) => setTimeout(r, 5));
  }
  const r = await child;
  expectCode(r, what);
  if (recovered === null) {
    const h = await health(port);
    if (h?.code === 200 && h.version === 'r2') recovered = performance.now() - t0;
    else throw new Error(`${what}: the service did not come back on the target release (${JSON.stringify(h)})`);
  }
  return { recovery: recovered, total: r.ms };
}

/** A master connection opened by hand (an operator's open session) and the ssh arguments that use it. */
async function warmMaster(sshd, control) {
  const base = ['-F', sshd.sshConfigPath, '-o', 'BatchMode=yes', '-o', `ControlPath=${control}`];
  expectCode(await run('ssh', [...base, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=300', '-f', '-N', '--', sshd.alias]), 'warm master');
  return {
    args: [...base, '-o', 'ControlMaster=no', '--', sshd.alias, 'sh -s'],
    close: () => run('ssh', [...base, '-O', 'exit', '--', sshd.alias]),
  };
}

export async function benchRecovery({ sshd, n, cleanups, log }) {
  const fx = await fixture(sshd);
  cleanups.push(async () => {
    await fx.stop();
    fs.rmSync(fx.dir, { recursive: true, force: true });
  });
  const where = sshd ? ['local', 'ssh'] : ['local'];
  const out = { service: 'demo/service.mjs (answers as soon as it listens), one http health check', policy: BENCH_POLICY.rollback, cases: [] };
  for (const env of where) {
    const warm = env === 'ssh' ? await warmMaster(sshd, fx.control) : null;
    if (warm) cleanups.push(warm.close);
    const shell = (text) => (warm ? run('ssh', warm.args, { input: `${text}\n` }) : run('sh', ['-s'], { input: `${text}\n` }));
    const flows = {
      tool: () => run(process.execPath, [BIN, 'rollback', '--config', fx.config, '--env', env, '--reason', 'bench', '--yes', '--json']),
      by_hand: () => shell(fx.scripts.by_hand.join('\n')),
      script: () => shell(fx.scripts.script.join('\n')),
    };
    const row = { where: env };
    for (const [name, launch] of Object.entries(flows)) {
      const runs = [];
      // The original script takes 10 s a run: fewer runs of it are as informative.
      const count = name === 'script' ? Math.min(n, 3) : n;
      for (let i = 0; i < count; i++) {
        await fx.reset();
        runs.push(await timed(launch, fx.port, `${name} (${env})`));
      }
      row[name] = { recovery: summary(runs.map((r) => r.recovery)), total: summary(runs.map((r) => r.total)) };
      log(`  recovery ${env} ${name}: ${row[name].recovery.median} ms to recovery, ${row[name].total.median} ms in all`);
    }
    row.tool_minus_by_hand_ms = Math.round(row.tool.recovery.median - row.by_hand.recovery.median);
    row.script_over_tool = Math.round((row.script.recovery.median / row.tool.recovery.median) * 10) / 10;
    out.cases.push(row);
    if (warm) await warm.close();
  }
  return out;
}
