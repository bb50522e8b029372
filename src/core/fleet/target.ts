/**
 * One target for the whole fleet, and the fleet view of the backups. Pure: they take each host's
 * listing (what `store.list()` returned there) and decide nothing by I/O.
 *
 * The default target is the newest backup older than the live release that exists and is usable on
 * every selected host and is marked bad on none. Hosts on different live releases (drift) have no
 * default: the operator names the target (`--to`), and the message shows each host's live release.
 * Never a guess.
 */
import type { Backup } from '../stores/types.js';

/** One host's listing. */
export interface HostListing {
  name: string;
  /** As store.list() returns them (newest first, marks of this host's state directory). */
  backups: readonly Backup[];
}

export type FleetTargetCode = 'DRIFT' | 'NO_TARGET' | 'BACKUP_NOT_FOUND' | 'MARKS_DAMAGED';

export type FleetTargetChoice =
  | {
      ok: true;
      target: string;
      /** Each host's live release (null: nothing recognisable is live there). */
      live: Record<string, string | null>;
      /** Hosts already live on the target (a re-run: skipped when healthy). */
      onTarget: string[];
      /** Not fatal, shown with the plan (the target is marked bad on some host). */
      warnings: string[];
    }
  | {
      ok: false;
      code: FleetTargetCode;
      /** One line naming the hosts and what is wrong on each. */
      reason: string;
      live: Record<string, string | null>;
    };

export function liveOf(backups: readonly Backup[]): string | null {
  return backups.find((b) => b.current)?.name ?? null;
}

/** "app-1 on r3, app-2 on r2" (hosts grouped by release, in host order). */
export function describeLive(live: Record<string, string | null>): string {
  const groups = new Map<string, string[]>();
  for (const [host, rel] of Object.entries(live)) {
    const key = rel ?? '(nothing live)';
    groups.set(key, [...(groups.get(key) ?? []), host]);
  }
  return [...groups].map(([rel, hosts]) => `${hosts.join(', ')} on ${rel}`).join('; ');
}

function hostsList(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`;
}

/** Names eligible as the default target on one host: usable, not bad, not live, older than live. */
function eligibleOn(backups: readonly Backup[]): Backup[] {
  const usable = backups.filter((b) => !b.unusable);
  const liveB = usable.find((b) => b.current);
  return usable
    .filter((b) => !b.bad && !b.current && (!liveB || b.createdMs < liveB.createdMs))
    .sort((a, b) => b.createdMs - a.createdMs);
}

/**
 * The fleet's target: `to` when given (it must exist and be usable on every host), else the default.
 * Hosts already live on the target are named in `onTarget`.
 */
export function chooseFleetTarget(listings: readonly HostListing[], to?: string): FleetTargetChoice {
  const live: Record<string, string | null> = Object.fromEntries(listings.map((l) => [l.name, liveOf(l.backups)]));
  const onTargetOf = (name: string) => listings.filter((l) => live[l.name] === name).map((l) => l.name);
  if (to !== undefined) {
    const missing: string[] = [];
    for (const l of listings) {
      const b = l.backups.find((x) => x.name === to);
      if (!b) missing.push(`${l.name}: not found`);
      else if (b.unusable) missing.push(`${l.name}: unusable (${b.unusable})`);
    }
    if (missing.length > 0) {
      return { ok: false, code: 'BACKUP_NOT_FOUND', reason: `backup ${JSON.stringify(to)} is not usable on every host: ${missing.join('; ')}`, live };
    }
    const badOn = listings.filter((l) => l.backups.some((b) => b.name === to && b.bad)).map((l) => l.name);
    const warnings = badOn.length > 0 ? [`${to} is marked bad on ${hostsList(badOn)} (a release was rolled back away from it there)`] : [];
    return { ok: true, target: to, live, onTarget: onTargetOf(to), warnings };
  }

  const damaged = listings.filter((l) => l.backups.some((b) => b.marksDamaged));
  if (damaged.length > 0) {
    const first = damaged[0]?.backups.find((b) => b.marksDamaged)?.marksDamaged ?? '';
    return {
      ok: false,
      code: 'MARKS_DAMAGED',
      reason: `the marks of ${hostsList(damaged.map((l) => l.name))} are damaged, so which releases are bad is unknown (${first}); name the target with --to`,
      live,
    };
  }
  const releases = new Set(Object.values(live));
  if (releases.size > 1) {
    return {
      ok: false,
      code: 'DRIFT',
      reason: `the hosts run different releases (${describeLive(live)}): there is no default target; name the release every host goes to with --to`,
      live,
    };
  }
  const perHost = listings.map((l) => ({ name: l.name, eligible: eligibleOn(l.backups) }));
  const [first, ...others] = perHost;
  // Newest first by the first host's clock; a release counts only if every other host has it eligible too.
  const candidate = first?.eligible.find((b) => others.every((o) => o.eligible.some((x) => x.name === b.name)));
  if (candidate) return { ok: true, target: candidate.name, live, onTarget: onTargetOf(candidate.name), warnings: [] };
  const common = [...releases][0] ?? null;
  const detail = perHost.map((h) => `${h.name}: ${h.eligible.length > 0 ? h.eligible.slice(0, 3).map((b) => b.name).join(', ') : 'none'}`).join('; ');
  return {
    ok: false,
    code: 'NO_TARGET',
    reason: `no backup older than the live ${common ?? '(nothing live)'} exists on every host and is marked bad on none (candidates per host: ${detail})`,
    live,
  };
}

/** A backup across the fleet: the first host's fields where it is present, and where it is what. */
export interface FleetBackup extends Backup {
  presentOn: string[];
  currentOn: string[];
  knownGoodOn: string[];
  badOn: string[];
}

/**
 * Every backup of any host, newest first: `current` when it is live on every host, `knownGood` when it
 * is known-good on every host it is on, `bad` when it is marked bad on any, `unusable` when it is on any.
 */
export function fleetBackups(listings: readonly HostListing[]): FleetBackup[] {
  const byName = new Map<string, FleetBackup>();
  for (const l of listings) {
    for (const b of l.backups) {
      let e = byName.get(b.name);
      if (!e) {
        e = { ...b, current: false, knownGood: false, bad: false, presentOn: [], currentOn: [], knownGoodOn: [], badOn: [] };
        byName.set(b.name, e);
      }
      e.presentOn.push(l.name);
      if (b.current) e.currentOn.push(l.name);
      if (b.knownGood) e.knownGoodOn.push(l.name);
      if (b.bad) e.badOn.push(l.name);
      if (b.unusable && !e.unusable) e.unusable = `${l.name}: ${b.unusable}`;
      if (b.marksDamaged && !e.marksDamaged) e.marksDamaged = b.marksDamaged;
      if (b.createdMs > e.createdMs) {
        e.createdMs = b.createdMs;
        e.created = b.created;
      }
    }
  }
  const hosts = listings.length;
  return [...byName.values()]
    .map((e) => ({
      ...e,
      current: hosts > 0 && e.currentOn.length === hosts,
      knownGood: e.knownGoodOn.length > 0 && e.knownGoodOn.length === e.presentOn.length,
      bad: e.badOn.length > 0,
    }))
    .sort((a, b) => b.createdMs - a.createdMs || a.name.localeCompare(b.name));
}
