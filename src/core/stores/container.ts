/**
 * Container releases, the way Kamal keeps them: a release is a container named `<name>-<version>`
 * (docker or podman, `target.engine`, run through the executor so it works locally and over SSH). The
 * running one is live; stopped ones are backups, ordered by the creation time the engine reports. A
 * backup's name is its version (`v2` for the container `app-v2`).
 *
 * Switch: stop the live container (the engine's stop with the service timeout), start the target; if
 * the target does not start, the previous one is started again and the switch fails with nothing
 * changed. Named volumes and bind mounts are never touched (no `rm -v`, no volume commands but inspect).
 *
 * Two (or more) release containers running at once is an error state: all are listed as live, and every
 * entry carries the warning that refuses a rollback without --to (and retention), as a damaged marks
 * file does.
 *
 * Snapshots are refused: see snapshot(). Retention (`keep`) runs after a successful switch.
 */
import type { ContainerTargetConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import type { ExecResult, Executor } from '../exec/types.js';
import type { MarkStore } from '../state/marks.js';
import { parseMarks } from '../state/marks.js';
import { isLive, lastLine, makeBackup, notFound, nulTokens, retentionVictims, runStoreScript, runValidateCommands } from './common.js';
import { containerInfo, imageInfo, inspectDifference, requiredBindSources, shortId, type ContainerInfo, type ImageInfo } from './container-inspect.js';
import { CHECK_SCRIPT, EXIT, LIST_SCRIPT, PRUNE_SCRIPT, SWITCH_SCRIPT } from './container-scripts.js';
import { assertBackupName, backupNameProblem } from './names.js';
import type { Backup, BackupStore, StoreCallOptions } from './types.js';

/** What one list round trip found: the release containers, their images, marks.json. */
interface Inventory {
  containers: ContainerInfo[];
  images: Map<string, ImageInfo>;
  marksText: string | null;
  marksProblem: string | null;
}

export class ContainerReleaseStore implements BackupStore {
  readonly strategy = 'container' as const;
  /** The live container(s) of the last listing: the dry run names them in the engine commands. */
  private lastLive: string[] = [];

  constructor(
    private readonly cfg: ContainerTargetConfig,
    private readonly executor: Executor,
    private readonly marks: MarkStore | null,
    private readonly envName = 'default',
    /** service.timeout_seconds: how long the engine's stop waits before it kills. */
    private readonly stopTimeoutSeconds = 60,
  ) {}

  private get engine(): string {
    return this.cfg.engine;
  }

  /** `app-v2` for the version `v2`. */
  container(version: string): string {
    return `${this.cfg.name}-${version}`;
  }

  private version(container: string): string {
    return container.slice(this.cfg.name.length + 1);
  }

  private where(): string {
    return `the ${this.engine} containers ${this.cfg.name}-* on ${this.executor.description}`;
  }

  private failures(version: string): Record<number, (r: ExecResult) => UserError> {
    const c = this.container(version);
    const lastErr = (r: ExecResult) => lastLine(r.stderr) || `exit ${r.exitCode}`;
    return {
      [EXIT.notFound]: () => notFound(version, this.where(), this.envName),
      [EXIT.isLive]: () => isLive(version, this.envName),
      [EXIT.noEngine]: () =>
        new UserError(`${this.engine} is not installed (not on the PATH) on ${this.executor.description}`, {
          code: 'CONFIG',
          hint: `install ${this.engine} there, or set target.engine to the container CLI the host has (docker | podman)`,
        }),
      [EXIT.engineFailed]: (r) =>
        new UserError(`${this.engine} failed on ${this.executor.description}: ${lastErr(r)}`, {
          code: 'ENGINE_FAILED',
          hint: `check that \`${this.engine} ps\` works there for the user rollback-tui runs as (is the daemon running? is the user allowed?)`,
        }),
      [EXIT.stopFailed]: (r) =>
        new UserError(`stopping the live container failed: ${lastErr(r)}; it was started again: nothing changed`, {
          code: 'SWITCH_FAILED',
          hint: `look at \`${this.engine} ps -a\` and \`${this.engine} logs\` of the live container, then retry`,
        }),
      [EXIT.startFailedRestored]: (r) =>
        new UserError(`${c} did not start (${lastErr(r)}); the previous release was started again: nothing changed`, {
          code: 'TARGET_DID_NOT_START',
          hint: `see why with \`${this.engine} logs ${c}\`; roll back to another release with --to`,
        }),
      [EXIT.startFailedNothingRunning]: (r) =>
        new UserError(`${c} did not start, and starting the previous release again failed too (${lastErr(r)}): NOTHING IS RUNNING`, {
          code: 'SWITCH_FAILED',
          hint: `start a release by hand now (\`${this.engine} start ${this.cfg.name}-<version>\`), or roll back with --to another release`,
        }),
    };
  }

  private async inventory(options: StoreCallOptions): Promise<Inventory> {
    const r = await runStoreScript(
      this.executor,
      `listing ${this.where()}`,
      LIST_SCRIPT,
      [this.engine, this.cfg.name, this.marks?.path ?? ''],
      { signal: options.signal },
      this.failures(''),
    );
    const inv: Inventory = { containers: [], images: new Map(), marksText: null, marksProblem: null };
    const t = nulTokens(r.stdout);
    for (let i = 0; i < t.length; i += 2) {
      const tag = t[i];
      const value = t[i + 1] ?? '';
      if (tag === 'M') inv.marksText = value;
      else if (tag === 'Q') inv.marksProblem = value;
      else if (tag === 'C') inv.containers.push(...parseArray(value, 'container inspect').map(containerInfo));
      else if (tag === 'I') for (const img of parseArray(value, 'image inspect').map(imageInfo)) inv.images.set(img.id, img);
      else throw new Error(`unexpected container list output near ${JSON.stringify(tag?.slice(0, 40))}`);
    }
    inv.containers = inv.containers.filter((c) => c.name.startsWith(`${this.cfg.name}-`) && c.name.length > this.cfg.name.length + 1);
    return inv;
  }

  async list(options: StoreCallOptions & { sizes?: boolean } = {}): Promise<Backup[]> {
    return this.backupsOf(await this.inventory(options));
  }

  private backupsOf(inv: Inventory): Backup[] {
    const marks = parseMarks(inv.marksText, this.marks?.path, inv.marksProblem);
    this.marks?.saw(inv.marksText, inv.marksProblem);
    const running = inv.containers.filter((c) => c.running).sort(newestFirst);
    this.lastLive = running.map((c) => c.name);
    if (running.length > 1) {
      const ambiguous =
        `${running.length} containers of ${this.cfg.name} are running at once (${running.map((c) => c.name).join(', ')}): which release is live is ambiguous, ` +
        `so a rollback without --to (standard, dry run, monitor) and retention are refused; name the release that must be live with --to VERSION ` +
        `(every other running ${this.cfg.name}-* container is stopped), or stop the wrong one by hand`;
      marks.damaged = marks.damaged ? `${marks.damaged}; and ${ambiguous}` : ambiguous;
    }
    const list = [...inv.containers].sort(newestFirst).map((c) => {
      const version = this.version(c.name);
      const img = inv.images.get(c.imageId);
      const digest = img?.digest || c.imageDigest;
      const problem = backupNameProblem(version);
      const detail = [
        c.name,
        c.status,
        `image ${shortId(c.imageId)}${digest ? ` ${shortId(digest)}` : ''}${img ? '' : ' (image missing)'}`,
        c.imageRef,
        ...(running.length > 1 && c.running ? [`${running.length} RUNNING`] : []),
      ]
        .filter(Boolean)
        .join(' · ');
      return makeBackup(version, c.createdMs, marks, null, {
        createdMs: c.createdMs,
        detail,
        ...(problem === null ? {} : { unusable: `unsafe name: ${problem}` }),
      });
    });
    for (const b of list) b.current = running.some((c) => c.name === this.container(b.name));
    return list;
  }

  async live(options: StoreCallOptions = {}): Promise<string | null> {
    return (await this.list(options)).find((b) => b.current)?.name ?? null;
  }

  /**
   * Pre-validation: the container exists and is not the only live one, its image is present locally,
   * and the volumes, bind sources and networks it refers to exist. Every missing thing is named at
   * once. Then the configured `validate:` commands (not for emergencies).
   */
  async validateTarget(version: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    assertBackupName(version);
    const inv = await this.inventory(options);
    const c = inv.containers.find((x) => x.name === this.container(version));
    if (!c) throw notFound(version, this.where(), this.envName);
    const running = inv.containers.filter((x) => x.running);
    if (c.running && running.length === 1) throw isLive(version, this.envName);
    const items = [...c.volumes.map((v) => `v:${v}`), ...c.networks.map((n) => `n:${n}`), ...requiredBindSources(c, this.cfg.engine).map((b) => `b:${b}`)];
    const r = await this.executor.script(CHECK_SCRIPT, [this.engine, c.imageId, ...items], { timeoutMs: 120_000, signal: options.signal });
    if (r.exitCode === EXIT.missingResources) {
      const missing = r.stdout.trim().split('\n').filter(Boolean);
      throw new UserError(`${c.name} cannot start: missing on ${this.executor.description}: ${missing.join(', ')}; nothing was stopped`, {
        code: 'BACKUP_INVALID',
        hint: 'recreate what is missing (pull or load the image, create the volume or network), or pick another release from `rollback-tui list`',
      });
    }
    if (r.exitCode !== 0 || r.timedOut) {
      const f = this.failures(version)[r.exitCode];
      throw f ? f(r) : new UserError(`checking ${c.name} failed on ${this.executor.description}: ${lastLine(r.stderr) || (r.timedOut ? 'timed out' : `exit ${r.exitCode}`)}`, { code: 'STORE_FAILED' });
    }
    if (!options.emergency) await runValidateCommands(this.executor, this.cfg.validate, version, c.name, options);
  }

  async switchTo(version: string, options: StoreCallOptions & { emergency?: boolean } = {}): Promise<void> {
    assertBackupName(version);
    await runStoreScript(
      this.executor,
      `switching ${this.cfg.name} to ${this.container(version)}`,
      SWITCH_SCRIPT,
      [this.engine, this.cfg.name, this.container(version), String(Math.ceil(this.stopTimeoutSeconds))],
      // Each running container may take the whole stop timeout, and a failed start one more for the target.
      { signal: options.signal, onLine: options.onLine, timeoutMs: (this.stopTimeoutSeconds * 3 + 120) * 1000 },
      this.failures(version),
    );
    if (this.cfg.keep !== undefined) {
      // Retention after a switch: never on the critical path's outcome (the release is live already).
      try {
        const removed = await this.prune(this.cfg.keep, { signal: options.signal });
        if (removed.length) options.onLine?.(`retention (keep: ${this.cfg.keep}) removed ${removed.join(', ')}`, 'stdout');
      } catch (err) {
        options.onLine?.(`retention (keep: ${this.cfg.keep}) skipped: ${(err as Error).message}`, 'stderr');
      }
    }
  }

  /**
   * Refused. A copy "with the same configuration" cannot be made faithfully with the CLI both engines
   * share: docker has no clone, and rebuilding `run` flags from `inspect` silently drops what it does
   * not know (a mount, a network alias, a secret, a device, a runtime option). A rollback to such a copy
   * could start without its data. Every deployed version is already a release here.
   */
  snapshot(): Promise<Backup> {
    return Promise.reject(
      new UserError(`snapshot is not available for container releases (${this.cfg.name}-*): a container cannot be copied faithfully with the ${this.engine} CLI`, {
        code: 'SNAPSHOT_UNSUPPORTED',
        hint: `every deployed version is already a release: deploy each one as a new container ${this.cfg.name}-<version> and keep the old ones stopped (target.keep)`,
      }),
    );
  }

  async prune(keep: number, options: StoreCallOptions = {}): Promise<string[]> {
    const quiet = { signal: options.signal };
    const victims = retentionVictims(await this.list(quiet), keep);
    if (victims.length === 0) return [];
    const r = await runStoreScript(
      this.executor,
      `removing old ${this.cfg.name} containers`,
      PRUNE_SCRIPT,
      [this.engine, ...victims.map((v) => this.container(v))],
      quiet,
      this.failures(''),
    );
    const removed = nulTokens(r.stdout).map((c) => this.version(c));
    if (this.marks && removed.length > 0) await this.marks.forget(removed);
    return removed;
  }

  describeSwitch(version: string): string[] {
    const e = this.engine;
    const target = this.container(version);
    const live = this.lastLive.filter((c) => c !== target);
    const stops = live.length ? live : [`${this.cfg.name}-<live>`];
    return [
      ...stops.map((c) => `${e} stop -t ${Math.ceil(this.stopTimeoutSeconds)} ${c}`),
      `${e} start ${target}`,
      `${e} container inspect --format '{{.State.Status}}' ${target}   (must be running)`,
      `if ${target} does not start: ${e} stop ${target}; ${stops.map((c) => `${e} start ${c}`).join('; ')}   (nothing changed)`,
      ...(this.cfg.keep !== undefined ? [`retention: ${e} rm (no -v: volumes kept) of stopped releases beyond keep: ${this.cfg.keep}`] : []),
    ];
  }

  describeValidate(version: string): string[] {
    const e = this.engine;
    const c = this.container(version);
    return [
      `${e} container inspect ${c}   (exists, not the running one)`,
      `${e} image inspect <its image>; ${e} volume inspect / network inspect <each one it uses>; test -e <each bind source>`,
    ];
  }

  /** The image ids and the `inspect` difference between the two containers (env values redacted). */
  async changes(from: string, to: string, options: StoreCallOptions = {}): Promise<string[]> {
    const inv = await this.inventory(options);
    const a = inv.containers.find((c) => c.name === this.container(from));
    const b = inv.containers.find((c) => c.name === this.container(to));
    if (!a || !b) throw notFound(!a ? from : to, this.where(), this.envName);
    return [
      `${a.name}: image ${a.imageId} (${a.imageRef || '?'}), ${a.status}`,
      `${b.name}: image ${b.imageId} (${b.imageRef || '?'}), ${b.status}`,
      `inspect difference (${a.name} -> ${b.name}):`,
      ...inspectDifference(a, b).map((l) => `  ${l}`),
    ];
  }
}

function newestFirst(a: ContainerInfo, b: ContainerInfo): number {
  // Equal ms: the engine's sub-millisecond part decides, then the name.
  return b.createdMs - a.createdMs || b.createdSubMs - a.createdSubMs || (a.name < b.name ? 1 : a.name > b.name ? -1 : 0);
}

function parseArray(text: string, what: string): unknown[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : [];
  } catch {
    throw new UserError(`could not read the output of ${what}: not JSON`, { code: 'ENGINE_FAILED' });
  }
}
