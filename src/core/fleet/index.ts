/**
 * Fleets: one environment over many hosts (`executor.hosts`). Resolution into per-host environments,
 * the fleet's one target, the pre-check, the all-or-nothing lock and the rollout scheduler; the engine
 * runs one host's rollback inside the scheduler's `runHost`.
 */
export { fleetHostEntries, isFleet, parseHostsOption, resolveAliasWithSsh, resolveFleet, selectHosts } from './hosts.js';
export type { AliasResolver, FleetHost, ResolvedFleet, ResolveFleetOptions } from './hosts.js';
export { DEFAULT_FLEET_CONCURRENCY, mapLimit, openFleet } from './open.js';
export type { FleetMember, OpenFleet, OpenFleetOptions } from './open.js';
export { chooseFleetTarget, describeLive, fleetBackups, liveOf } from './target.js';
export type { FleetBackup, FleetTargetChoice, HostListing } from './target.js';
export { precheckError, precheckFleet } from './precheck.js';
export type { FleetPrecheck, HostPrecheck, PrecheckOptions } from './precheck.js';
export { acquireFleetLock } from './lock.js';
export type { FleetAcquireOptions, FleetLock } from './lock.js';
export { fleetExit, formatFleetSummary, isFailing, planBatches, rolloutSettings, runRollout, stoppedAdvice } from './rollout.js';
export type { FleetHostResult, HostRun, HostRunStatus, HostStatus, RolloutOutcome, RolloutSettings, RunRolloutOptions, StopReason } from './rollout.js';
export { breachesNeeded, fleetTrigger } from './breach.js';
export type { FleetTriggerVerdict, HostTriggerState } from './breach.js';
export { fleetPlan, formatFleetPlan, planMovedSince } from './plan.js';
export type { FleetPlan } from './plan.js';
export { idleHost } from './rollout.js';
export { hostRunOf, runFleetRollback } from './rollback.js';
export type { FleetRollbackOptions, FleetRollbackResult } from './rollback.js';
export { mergeFleetOperations } from './history.js';
