/**
 * Fleet figures (bench/run.mjs, section `fleet`), against real fixture hosts: host i is its own sshd on
 * its own loopback address 127.0.0.(10+i), all on one port, each in its own mount namespace where its
 * directory is bind-mounted on one shared path, so every host has the same symlink layout at one path.
 *
 *   - rollback of 1 host (a one-host environment on host 1, and the fleet environment with --hosts) and
 *     of 10 hosts in parallel, a real HTTP service per host (demo/service.mjs bound to the host's address,
 *     one http health check), against the same operations by hand over one fresh ssh connection per host,
 *     all hosts side by side (stop; `ln -s` + `mv -T`; start; poll the health URL);
 *   - the pre-check of 10 hosts in one round (`rollback --dry-run`: every host's backups, lock and target
 *     validation, the whole CLI run);
 *   - 50 hosts (bounded concurrency) with an instant-start service (its start, stop and health are file
 *     operations, so 50 service processes do not crowd the machine): the pre-check and the rollback;
 *   - the same 1- and 10-host figures over warm connections: the `fleet-warm` environment's ssh options
 *     multiplex (ControlMaster auto, a ControlPath per host, ControlPersist), as an operator's
 *     ~/.ssh/config would, and masters opened beforehand are reused by the tool and by hand alike.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BIN, SERVICE, backupName, expectCode, freePort, mvNoFollowFlag, q, run, startSshd, summary, tmpDir, waitFor, writeConfig } from './lib.mjs';

const POLICY = {
  enabled: false,
  rollback: { stability_seconds: 0, poll_interval_seconds: 0.05, health_check_timeout_seconds: 30 },
};
const RELEASES = 3;

/**
 * `count` fixture hosts. `service`: 'demo' (a demo/service.mjs per host, bound to its address) or
 * 'instant' (start/stop/health are file operations on the host).
 */
export async function startFleet({ count, service, cleanups }) {
  const root = tmpDir('fleet');
  const shared = `/srv/rbtui-bench-fleet-${process.pid}-${count}/app`;
  fs.mkdirSync(shared, { recursive: true });
  const t0 = Date.now() - RELEASES * 3_600_000;
  const names = Array.from({ length: RELEASES }, (_, r) => backupName(t0 + r * 3_600_000));
  const dirs = Array.from({ length: count }, (_, i) => path.join(root, `host-${i + 1}`));
  const setLive = (dir, name) => {
    const tmp = path.join(dir, 'current.bench-tmp');
    fs.rmSync(tmp, { force: true });
    fs.symlinkSync(`${shared}/backups/${name}`, tmp);
    fs.renameSync(tmp, path.join(dir, 'current'));
  };
  for (const dir of dirs) {
    for (const [r, name] of names.entries()) {
      const rel = path.join(dir, 'backups', name);
      fs.mkdirSync(rel, { recursive: true });
      fs.writeFileSync(path.join(rel, 'VERSION'), `${name}\n`);
      fs.writeFileSync(path.join(rel, 'release.json'), JSON.stringify({ version: `r${r + 1}`, mode: 'healthy' }));
      const t = new Date(t0 + r * 3_600_000);
      fs.utimesSync(rel, t, t);
    }
    setLive(dir, names.at(-1));
  }

  let sshds = [];
  let sshPort = 0;
  for (let attempt = 0; attempt < 3 && sshds.length < count; attempt++) {
    sshPort = await freePort();
    const started = await Promise.allSettled(dirs.map((dir, i) => startSshd({ address: `127.0.0.${11 + i}`, port: sshPort, bindMounts: [{ source: dir, target: shared }] })));
    sshds = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (sshds.length < count) {
      await Promise.all(sshds.map((s) => s.stop()));
      sshds = [];
      if (attempt === 2) throw started.find((s) => s.status === 'rejected').reason;
    }
  }
  const hosts = sshds.map((sshd, i) => ({ name: `app-${i + 1}`, address: sshd.host, dir: dirs[i], sshd }));
  const servicePort = await freePort();
  const node = q(process.execPath);
  const pidFile = `${shared}/service.pid`;
  const services = {
    demo: (host) => ({
      start: `${node} ${q(SERVICE)} --daemon --host ${host} --port ${servicePort} --release-dir ${shared}/current --pid-file ${pidFile}`,
      stop: `${node} ${q(SERVICE)} --stop --pid-file ${pidFile}`,
    }),
    instant: () => ({ start: `touch ${shared}/up`, stop: `rm -f ${shared}/up` }),
  };
  const health =
    service === 'demo'
      ? (host) => [{ http: { url: `http://${host}:${servicePort}/health`, timeout_seconds: 2 } }]
      : () => [{ command: { run: `test -f ${shared}/up`, via: 'target', timeout_seconds: 5 } }];
  const first = sshds[0];
  const mux = { ControlMaster: 'auto', ControlPath: path.join(root, 'cm-%h'), ControlPersist: '300' };
  const base = (host) => ({
    target: { strategy: 'symlink', backups_dir: `${shared}/backups`, current: `${shared}/current` },
    service: { ...services[service](host), timeout_seconds: 30 },
    health: health(host),
    state_dir: `${shared}/state`,
  });
  const fleetExecutor = {
    type: 'ssh',
    port: sshPort,
    user: first.user,
    ssh_config: first.sshConfigPath,
    connect_timeout_seconds: 10,
    hosts: hosts.map((h) => ({ host: h.address, name: h.name, identity_file: h.sshd.identityFile })),
  };
  const config = writeConfig(
    root,
    {
      fleet: { ...base('{host}'), executor: fleetExecutor },
      one: { ...base(hosts[0].address), executor: { ...first.executor, connect_timeout_seconds: 10 } },
      'fleet-warm': { ...base('{host}'), executor: { ...fleetExecutor, options: mux } },
    },
    POLICY,
  );

  /** `script` on each of `which` hosts ($1: its address), one fresh ssh connection each, side by side. */
  const warmArgs = Object.entries(mux).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
  const onHosts = async (which, script, what, warm = false) => {
    const ssh = (h) => ['-F', h.sshd.sshConfigPath, '-o', 'BatchMode=yes', ...(warm ? warmArgs : []), '--', h.sshd.alias, `sh -s -- ${h.address}`];
    const results = await Promise.all(which.map((h) => run('ssh', ssh(h), { input: `${script}\n`, timeoutMs: 120_000 })));
    results.forEach((r, i) => expectCode(r, `${what} on ${which[i].name}`));
    return results;
  };
  const live = (h) => path.basename(fs.readlinkSync(path.join(h.dir, 'current')));
  const version = async (h) => {
    try {
      const r = await fetch(`http://${h.address}:${servicePort}/health`, { signal: AbortSignal.timeout(2000) });
      return r.ok ? (await r.json()).version : null;
    } catch {
      return null;
    }
  };
  const svc = services[service]('$1');
  let stopped = false;
  const fleet = {
    hosts,
    names,
    config,
    servicePort,
    live,
    /** Every host back on the newest release, its marks gone, its service up on it. */
    reset: async () => {
      for (const h of hosts) {
        setLive(h.dir, names.at(-1));
        fs.rmSync(path.join(h.dir, 'state', 'marks.json'), { force: true });
      }
      await onHosts(hosts, `set -e\n${svc.stop}\n${svc.start}`, 'service restart');
      if (service === 'demo') {
        await waitFor(async () => (await Promise.all(hosts.map(version))).every((v) => v === `r${RELEASES}`), 'every service on the newest release', 60_000);
      }
    },
    /** The same operations as a rollback, typed by hand on `which` hosts side by side. */
    byHand: async (which, warm = false) => {
      const mv = mvNoFollowFlag();
      const target = `${shared}/backups/${names.at(-2)}`;
      const url = `http://$1:${servicePort}/health`;
      const wait = service === 'demo' ? `until curl -fs "${url}" >/dev/null; do sleep 0.05; done` : `test -f ${shared}/up`;
      const script = ['set -e', svc.stop, `ln -s ${target} ${shared}/current.new`, `mv ${mv} ${shared}/current.new ${shared}/current`, svc.start, wait].join('\n');
      const t0 = performance.now();
      await onHosts(which, script, 'by hand', warm);
      return performance.now() - t0;
    },
    /** Open every host's warm master (they persist), as an operator's earlier session would have. */
    warm: () => onHosts(hosts, 'true', 'warm master', true),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(hosts.map((h) => run('ssh', ['-F', h.sshd.sshConfigPath, ...warmArgs, '-O', 'exit', '--', h.sshd.alias])));
      await Promise.all(hosts.map((h) => run('sh', ['-c', service === 'demo' ? `${node} ${q(SERVICE)} --stop --pid-file ${q(path.join(h.dir, 'service.pid'))}` : 'true'])));
      await Promise.all(hosts.map((h) => h.sshd.stop()));
      fs.rmSync(path.dirname(shared), { recursive: true, force: true });
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  cleanups.push(fleet.stop);
  return fleet;
}

/**
 * One timed CLI rollback (or dry run); checks the JSON says every selected host ended as expected.
 * Resolves {ms, cpu}: wall time, and the CPU seconds of the tool and the ssh clients it waited for (the
 * shell's `times`; the ssh masters run detached and the hosts' own work is not in it).
 */
async function timedRollback(fleet, args, expect) {
  const argv = ['rollback', '--config', fleet.config, '--reason', 'bench', '--yes', '--json', ...args];
  const r = expectCode(await run('sh', ['-c', '"$0" "$@"; s=$?; times >&2; exit $s', process.execPath, BIN, ...argv], { timeoutMs: 300_000 }), `rollback ${args.join(' ')}`);
  const doc = JSON.parse(r.stdout);
  const statuses = doc.hosts ? doc.hosts.filter((h) => h.status !== 'excluded').map((h) => h.status) : [doc.ok ? 'verified' : 'failed'];
  if (!statuses.every((s) => s === expect)) throw new Error(`rollback ${args.join(' ')}: expected every host ${expect}, got ${statuses.join(', ')}`);
  // `times`: the shell's own user and system time, then its children's ("0m1.23s 0m0.45s").
  const seconds = (t) => t.split('m').reduce((m, sec) => Number(m) * 60 + Number.parseFloat(sec));
  const children = r.stderr.trim().split('\n').at(-1).trim().split(/\s+/);
  return { ms: r.ms, cpu: Math.round((seconds(children[0]) + seconds(children[1])) * 1000) };
}

/** `fn` n times (after `reset`): the summary of its wall times, and of its CPU where it reports one. */
async function series(n, reset, fn) {
  const values = [];
  for (let i = 0; i < n; i++) {
    if (reset) await reset();
    values.push(await fn());
  }
  const ms = summary(values.map((v) => (typeof v === 'number' ? v : v.ms)));
  return typeof values[0] === 'number' ? ms : { ...ms, cpu_ms: summary(values.map((v) => v.cpu)) };
}

export async function benchFleet({ n, quick, cleanups, log }) {
  if (process.getuid?.() !== 0) return { skipped: 'fleet fixture hosts need root (unshare -m and bind mounts)' };
  if (!fs.existsSync('/usr/sbin/sshd')) return { skipped: '/usr/sbin/sshd is not installed' };
  const [load] = os.loadavg();
  const out = {
    service: 'demo/service.mjs per host, bound to its address; one http health check',
    policy: POLICY.rollback,
    by_hand: 'one fresh ssh connection per host, all hosts side by side: stop; ln -s + mv -T; start; poll the health URL',
    load_average_at_start: Math.round(load * 10) / 10,
  };

  const ten = await startFleet({ count: 10, service: 'demo', cleanups });
  const rollback = (args) => () => timedRollback(ten, args, 'verified');
  const one = ten.hosts.slice(0, 1);
  out.rollback_1_host = await series(n, ten.reset, rollback(['--env', 'one']));
  log(`  fleet rollback, one-host environment: ${out.rollback_1_host.median} ms`);
  out.rollback_1_host_fleet = await series(n, ten.reset, rollback(['--env', 'fleet', '--hosts', 'app-1']));
  log(`  fleet rollback, --hosts app-1: ${out.rollback_1_host_fleet.median} ms`);
  out.rollback_10_hosts = await series(n, ten.reset, rollback(['--env', 'fleet']));
  log(`  fleet rollback, 10 hosts in parallel: ${out.rollback_10_hosts.median} ms`);
  out.by_hand_1_host = await series(n, ten.reset, () => ten.byHand(one));
  out.by_hand_10_hosts = await series(n, ten.reset, () => ten.byHand(ten.hosts));
  log(`  by hand: 1 host ${out.by_hand_1_host.median} ms, 10 hosts ${out.by_hand_10_hosts.median} ms`);
  await ten.reset();
  out.precheck_10_hosts = await series(n, null, () => timedRollback(ten, ['--env', 'fleet', '--dry-run'], 'planned'));
  log(`  fleet pre-check, 10 hosts: ${out.precheck_10_hosts.median} ms`);
  await ten.warm();
  out.warm = {
    rollback_1_host: await series(n, ten.reset, rollback(['--env', 'fleet-warm', '--hosts', 'app-1'])),
    rollback_10_hosts: await series(n, ten.reset, rollback(['--env', 'fleet-warm'])),
    by_hand_1_host: await series(n, ten.reset, () => ten.byHand(one, true)),
    by_hand_10_hosts: await series(n, ten.reset, () => ten.byHand(ten.hosts, true)),
  };
  await ten.reset();
  out.warm.precheck_10_hosts = await series(n, null, () => timedRollback(ten, ['--env', 'fleet-warm', '--dry-run'], 'planned'));
  log(`  warm connections: rollback 1 host ${out.warm.rollback_1_host.median} ms, 10 hosts ${out.warm.rollback_10_hosts.median} ms; by hand ${out.warm.by_hand_1_host.median} / ${out.warm.by_hand_10_hosts.median} ms; pre-check 10 hosts ${out.warm.precheck_10_hosts.median} ms`);
  await ten.stop();

  // Quick mode keeps the harness from rotting; fifty sshd and their set-up take minutes on two cores.
  if (quick) {
    out.fifty_hosts = { skipped: 'quick mode (run without --quick for the 50-host figures)' };
  } else {
    const fifty = await startFleet({ count: 50, service: 'instant', cleanups });
    await fifty.reset();
    out.precheck_50_hosts = await series(n, null, () => timedRollback(fifty, ['--env', 'fleet', '--dry-run'], 'planned'));
    out.rollback_50_hosts = await series(Math.min(n, 3), fifty.reset, () => timedRollback(fifty, ['--env', 'fleet'], 'verified'));
    log(`  50 hosts (instant service): pre-check ${out.precheck_50_hosts.median} ms, rollback ${out.rollback_50_hosts.median} ms`);
    await fifty.stop();
  }

  const ratio = (a, b) => Math.round((a.median / b.median) * 100) / 100;
  out.ratio_10_over_1 = ratio(out.rollback_10_hosts, out.rollback_1_host);
  out.by_hand_ratio_10_over_1 = ratio(out.by_hand_10_hosts, out.by_hand_1_host);
  out.tool_over_by_hand_1_host = ratio(out.rollback_1_host, out.by_hand_1_host);
  out.tool_over_by_hand_10_hosts = ratio(out.rollback_10_hosts, out.by_hand_10_hosts);
  out.warm.ratio_10_over_1 = ratio(out.warm.rollback_10_hosts, out.warm.rollback_1_host);
  out.warm.by_hand_ratio_10_over_1 = ratio(out.warm.by_hand_10_hosts, out.warm.by_hand_1_host);
  out.load_average_at_end = Math.round(os.loadavg()[0] * 10) / 10;
  return out;
}
