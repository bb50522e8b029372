/** One readable line per fleet monitor event (the `monitor` subcommand on a fleet; the console's log). */
import { formatFleetSummary } from '../fleet/index.js';
import type { FleetMonitorEvent } from './fleet-monitor.js';
import { formatEvent } from './format.js';

/** "FLEET ROLLBACK started (trigger error_rate) of app-1, app-2 -> ..." / "... finished (exit 0): app-1 verified on r1 · ...". */
export function fleetRollbackText(e: Extract<FleetMonitorEvent, { type: 'fleet_rollback' }>): string {
  return e.phase === 'started'
    ? `FLEET ROLLBACK started (trigger ${e.trigger}) of ${e.hosts.join(', ')} -> ${e.to ?? 'the fleet default target'}${e.left_out.length > 0 ? `; LEFT OUT (unreachable): ${e.left_out.join(', ')}` : ''}`
    : `FLEET ROLLBACK ${e.outcome.ok ? 'finished' : 'FAILED'} (exit ${e.outcome.exit_code}): ${e.outcome.error ? `${e.outcome.error}; ` : ''}${formatFleetSummary(e.outcome.hosts)}`;
}

export function formatFleetEvent(e: FleetMonitorEvent, now: number = Date.now()): string | null {
  const t = new Date(now).toISOString().slice(11, 19);
  switch (e.type) {
    case 'host': {
      // A host's own alerts are the fleet's; its samples and state snapshots stay in its charts.
      if (e.event.type === 'sample' || e.event.type === 'state') return null;
      const line = formatEvent(e.event, now);
      return line === null ? null : line.replace(` ${e.env} `, ` ${e.env}/${e.host} `);
    }
    case 'alert':
      return `${t} ${e.env} ${e.severity === 'info' ? 'info' : e.severity.toUpperCase()}: ${e.message}`;
    case 'fleet_rollback':
      return `${t} ${e.env} ${fleetRollbackText(e)}`;
    // Of a rollback in progress, each host's end and the rollout's notes (the finished line sums them up).
    case 'fleet_rollback_host':
      return e.phase === 'end' ? `${t} ${e.env}/${e.host} ${formatFleetSummary([e.result])}` : null;
    case 'fleet_rollback_note':
      return `${t} ${e.env} ${e.text}`;
    case 'fleet_rollback_plan':
      return null;
    case 'stopped':
      return `${t} ${e.env} fleet monitor stopped (${e.reason})`;
    case 'fleet_state':
      return null;
  }
}
