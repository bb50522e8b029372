/**
 * Test harness for the fleet monitor: a real local fleet (src/demo/local-fleet.ts: three directories,
 * each with its own symlink store and demo service on its own port), its environment loaded from a real
 * config file, resolved and opened as a fleet, each host with its real engine, and the fleet monitor
 * over them with a runner that really rolls the hosts back (and records what it was asked).
 */
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, resolveEnvironment } from '../../src/core/config/load.js';
import { RollbackEngine } from '../../src/core/engine/engine.js';
import type { Executor } from '../../src/core/exec/types.js';
import { openFleet, resolveFleet, type FleetHost, type OpenFleet } from '../../src/core/fleet/index.js';
import { FleetMonitor, type FleetMonitorEvent, type FleetMonitorOptions } from '../../src/core/monitor/fleet-monitor.js';
import { precheckedFleetRunner, type FleetRollbackRequest } from '../../src/core/monitor/fleet-rollback.js';
import { createLocalFleet, type LocalFleet } from '../../src/demo/local-fleet.js';
import { testPolicy, waitFor } from './harness.js';

export { waitFor };

export interface FleetFixture {
  dir: string;
  local: LocalFleet;
  fleet: OpenFleet;
  monitor: FleetMonitor;
  events: FleetMonitorEvent[];
  requests: FleetRollbackRequest[];
  /** Another fleet monitor on the same hosts, engines and recording runner (a second process's, as it were). */
  another(coordinate?: FleetMonitorOptions['coordinate']): FleetMonitor;
  alerts(): string[];
  live(name: string): string;
  history(name: string): Array<Record<string, unknown>>;
  cleanup(): Promise<void>;
}

/** A local fleet in `dir` with two releases on every host: r1 (a day old) and r2 (live, ten minutes old), both healthy. */
export function twoReleaseFleet(dir: string, hosts = 3): Promise<LocalFleet> {
  const now = Date.now();
  return createLocalFleet({
    dir,
    hosts,
    releases: [
      { created: new Date(now - 86_400_000), release: { version: 'r1', mode: 'healthy' } },
      { created: new Date(now - 600_000), release: { version: 'r2', mode: 'healthy' } },
    ],
  });
}

export async function makeFleetFixture(
  opts: { hosts?: number; policy?: Record<string, unknown>; executorFor?: (host: FleetHost) => Executor | undefined; coordinate?: FleetMonitorOptions['coordinate'] } = {},
): Promise<FleetFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rt-fleetmon-'));
  const local = await twoReleaseFleet(dir, opts.hosts ?? 3);
  const configPath = path.join(dir, 'rollback-config.yml');
  writeFileSync(configPath, JSON.stringify({ rollback_policy: opts.policy ?? testPolicy(), environments: { test: local.environment } }));
  await local.startAll();
  const env = resolveEnvironment(await loadConfig({ configPath }), 'test');
  const fleet = openFleet(await resolveFleet(env), opts.executorFor ? { executorFor: opts.executorFor } : {});
  const engines = new Map(fleet.members.map((m) => [m.host.name, new RollbackEngine(m.handle, { version: 'test' })]));
  const engineFor = (m: { host: FleetHost }) => engines.get(m.host.name) as RollbackEngine;
  const requests: FleetRollbackRequest[] = [];
  const rollBack = precheckedFleetRunner(fleet, { version: 'test' });
  const runner = (req: FleetRollbackRequest) => {
    requests.push(req);
    return rollBack(req);
  };
  const monitor = new FleetMonitor({ fleet, engineFor, runner, ...(opts.coordinate ? { coordinate: opts.coordinate } : {}) });
  const others: FleetMonitor[] = [];
  const events: FleetMonitorEvent[] = [];
  monitor.on((e) => events.push(e));
  const hostDir = (name: string) => local.hosts.find((h) => h.name === name)?.dir ?? '';
  return {
    dir,
    local,
    fleet,
    monitor,
    events,
    requests,
    another: (coordinate) => {
      const m = new FleetMonitor({ fleet, engineFor, runner, ...(coordinate ? { coordinate } : {}) });
      others.push(m);
      return m;
    },
    alerts: () => events.flatMap((e) => (e.type === 'alert' ? [`${e.severity}: ${e.message}`] : [])),
    live: (name) => path.basename(readlinkSync(path.join(hostDir(name), 'current'))),
    history: (name) => {
      try {
        return readFileSync(path.join(hostDir(name), 'state', 'history.jsonl'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    cleanup: async () => {
      // Its loop ended (a tick's checks, a rollback's service start, the lease's release) before the
      // services are stopped and the directory is removed.
      monitor.stop();
      await monitor.start();
      for (const m of others) {
        m.stop();
        await m.start();
      }
      await fleet.close();
      await local.stopAll().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every host has its baseline and watches (the fleet is ready to judge). */
export function allWatching(f: FleetFixture): boolean {
  return f.monitor.getState().hosts.every((h) => h.state.baseline !== null && h.state.phase === 'watching');
}
