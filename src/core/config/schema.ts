/**
 * The rollback policy and environments, as a zod schema. This is the single source of truth for the
 * config file: the loader validates against it, `config schema` turns it into JSON Schema, and every
 * other module takes the inferred types. Objects are strict so a typo'd key is an error (the loader
 * turns it into "did you mean ...").
 *
 * Durations carry their unit in the key name (`_seconds`, `_minutes`) and accept fractions, so tests
 * and the demo can run policies in sub-second time.
 */
import { z } from 'zod';

const positive = z.number().positive();
const nonNegative = z.number().nonnegative();
const posInt = z.number().int().positive();

// ---------------------------------------------------------------------------------------------------
// rollback_policy (the auto-rollback policy block loads unchanged; more keys extend it)

export const MonitoringSchema = z
  .strictObject({
    check_interval_seconds: positive.default(60).describe('How often the monitor takes a sample.'),
    baseline_window_minutes: positive
      .default(5)
      .describe('How long a new live release is observed before its baseline is recorded.'),
    consecutive_error_limit: posInt
      .default(5)
      .describe('Inconclusive samples in a row before the "monitor blind" alert.'),
  })
  .describe('Sampling of the live release.');

const triggerBase = {
  enabled: z.boolean().default(true),
  window_minutes: positive.describe('The window a condition must hold over.'),
};

export const TriggersSchema = z
  .strictObject({
    error_rate: z
      .strictObject({
        ...triggerBase,
        multiplier: positive.default(2).describe('Breached when the mean error rate exceeds baseline x multiplier.'),
        window_minutes: positive.default(5),
        min_errors_per_minute: nonNegative
          .default(1)
          .describe('Floor for the threshold, so a zero baseline does not make one error a breach.'),
      })
      .optional(),
    latency: z
      .strictObject({
        ...triggerBase,
        metric: z.enum(['p50', 'p95', 'p99']).default('p95'),
        multiplier: positive.default(1.5),
        window_minutes: positive.default(5),
        min_latency_ms: nonNegative
          .default(25)
          .describe('Floor for the threshold, so jitter on a fast (few ms) baseline is not a breach.'),
      })
      .optional(),
    memory: z
      .strictObject({
        ...triggerBase,
        threshold_percent: z.number().min(0).max(100).default(90),
        window_minutes: positive.default(10),
      })
      .optional(),
    health_check: z
      .strictObject({
        ...triggerBase,
        failure_count: posInt.default(3),
        window_minutes: positive.default(5),
      })
      .optional(),
    database: z
      .strictObject({
        ...triggerBase,
        threshold: nonNegative.default(10).describe('The increase of the db_connection_errors counter over the window above this is a breach.'),
        window_minutes: positive.default(2),
      })
      .optional(),
    log_errors: z
      .strictObject({
        ...triggerBase,
        patterns: z.array(z.string().min(1)).min(1).describe('Regular expressions matched against log lines.'),
        threshold: posInt.default(1).describe('Matching lines within the window that make a breach.'),
        window_minutes: positive.default(5),
      })
      .optional(),
  })
  .describe('Conditions that make the monitor roll back.');

export const RollbackSettingsSchema = z.strictObject({
  max_rollback_attempts: posInt.default(3),
  health_check_timeout_seconds: positive.default(120),
  stability_seconds: nonNegative
    .default(10)
    .describe('After the checks pass, they must keep passing this long (a crash shortly after start fails).'),
  grace_seconds: nonNegative.default(0).describe('Countdown before an automatic rollback, cancellable by an operator.'),
  stale_lock_minutes: positive.default(30).describe('A lock not refreshed for this long may be broken.'),
  break_stale_locks: z
    .boolean()
    .default(false)
    .describe('Let the monitor break a stale lock by itself (the break is recorded in history).'),
  poll_interval_seconds: positive.default(0.25).describe('How often verification polls the health checks.'),
});

export const NotificationsSchema = z.strictObject({
  ceo_alert: z.boolean().default(false).describe('Mark auto-rollback notifications as critical alerts.'),
  slack_webhook: z.string().optional().describe('Slack-compatible incoming webhook URL (a secret).'),
  email: z.string().optional().describe('Recipient; sent with `sendmail -t` when it is on PATH.'),
  command: z.string().optional().describe('Run with the event as JSON on stdin (paging tools, mail).'),
  timeout_seconds: positive.default(5),
  retries: z.number().int().nonnegative().default(2),
});

export const PolicySchema = z.strictObject({
  enabled: z.boolean().default(true).describe('false: monitor and alert, never roll back automatically.'),
  monitoring: MonitoringSchema.prefault({}),
  triggers: TriggersSchema.prefault({}),
  rollback: RollbackSettingsSchema.prefault({}),
  notifications: NotificationsSchema.prefault({}),
  fleet: z
    .strictObject({
      breach: z
        .enum(['majority', 'any', 'all'])
        .default('majority')
        .describe('A fleet: a trigger holds when it holds on more than half of the selected hosts (majority), on one (any), or on every one (all).'),
    })
    .optional()
    .describe('How triggers of a fleet (an environment with executor.hosts) combine over its hosts.'),
});

// ---------------------------------------------------------------------------------------------------
// environments

const sshHostName = z
  .string()
  .min(1)
  .refine((h) => !h.startsWith('-'), 'a host must not start with "-"');

/** One host of a fleet: a name or address, or a mapping overriding the executor's defaults for it. */
export const FleetHostSchema = z.union([
  sshHostName.describe('Host name, address or ~/.ssh/config alias; also its name.'),
  z.strictObject({
    host: sshHostName.describe('Host name, address or ~/.ssh/config alias.'),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/)
      .optional()
      .describe('How the host is named in --hosts, plans, history and {name}; default: host.'),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    identity_file: z.string().optional(),
  }),
]);

const fleetHosts = z
  .array(FleetHostSchema)
  .min(1)
  .optional()
  .describe('A fleet: the same layout on each of these hosts; the other executor keys are the defaults for every host.');

export const LocalExecutorSchema = z.strictObject({
  type: z.literal('local'),
  hosts: fleetHosts.describe('A local fleet: one "host" per entry, told apart by {host} / {name} in paths and URLs.'),
});

export const SshExecutorSchema = z
  .strictObject({
    type: z.literal('ssh'),
    host: sshHostName.optional().describe('Host name or ~/.ssh/config alias (or hosts: for a fleet).'),
    hosts: fleetHosts,
    user: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    identity_file: z.string().optional(),
    ssh_config: z.string().optional().describe('An ssh_config file passed as -F.'),
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    connect_timeout_seconds: positive.default(10),
  })
  .superRefine((v, ctx) => {
    if (v.host === undefined && v.hosts === undefined) {
      ctx.addIssue({ code: 'custom', path: ['host'], message: 'required key is missing (expected a string)' });
    } else if (v.host !== undefined && v.hosts !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['hosts'], message: 'give either host: (one host) or hosts: (a fleet), not both' });
    }
  });

/** The executor of an environment: one host, or (with `hosts`) a fleet. */
export const ExecutorSchema = z.discriminatedUnion('type', [LocalExecutorSchema, SshExecutorSchema]);

/** `rollout.batch` and `rollout.max_failures`: a count, or a percentage of the selected hosts ("25%"). */
const percent = z.string().regex(/^\d+(\.\d+)?%$/, 'a number or a percentage like "25%"');
const countOrPercent = z.union([z.number().int().nonnegative(), percent]);

export const RolloutSchema = z
  .strictObject({
    order: z
      .enum(['parallel', 'serial', 'canary'])
      .default('parallel')
      .describe('parallel: a batch at a time; serial: one host at a time; canary: the first host alone and verified, then the rest in batches.'),
    batch: z
      .union([posInt, percent])
      .optional()
      .describe('Hosts per batch, or a percentage of the selected hosts; default: all at once (every host restarts together).'),
    max_failures: countOrPercent
      .default(0)
      .describe('Failed hosts tolerated; past this no new host starts (hosts in flight finish).'),
    pause_seconds: nonNegative.default(0).describe('Pause between batches.'),
  })
  .describe('How a fleet is rolled back: order, batch size, failure limit, pause.');

const commonTarget = {
  backups_dir: z.string().min(1),
  keep: posInt.optional().describe('Retention: keep at most this many backups (never the live or known-good one).'),
  validate: z.array(z.string()).optional().describe('Commands run before a switch; {backup} is given as $ROLLBACK_TARGET.'),
};

export const RELEASE_LAYOUTS = ['capistrano', 'deployer'] as const;
export type ReleaseLayoutName = (typeof RELEASE_LAYOUTS)[number];

export const SymlinkTargetSchema = z
  .strictObject({
    strategy: z.literal('symlink'),
    ...commonTarget,
    backups_dir: z.string().min(1).optional().describe('The directory of releases (not with layout:, which uses <deploy_to>/releases).'),
    current: z.string().min(1).optional().describe('The symlink that points at the live release (not with layout:).'),
    layout: z
      .enum(RELEASE_LAYOUTS)
      .optional()
      .describe("A deploy tool's layout under deploy_to: releases/, current, and that tool's own records; default: backups_dir + current."),
    deploy_to: z.string().min(1).optional().describe("The deploy tool's deploy_to / deploy_path (with layout:)."),
    pattern: z.string().default('backup_*').describe('Glob of backup directory names (layouts: every release).'),
    config_link: z
      .strictObject({
        source: z.string().min(1).describe('e.g. /opt/app/config-prod.json'),
        name: z.string().min(1).default('config.json'),
      })
      .optional(),
  })
  .superRefine((t, ctx) => {
    // Reported like any missing key of an object (the loader words it "required key is missing").
    const need = (key: 'backups_dir' | 'current' | 'deploy_to') =>
      ctx.addIssue({ code: 'invalid_type', expected: 'string', input: undefined, path: [key] });
    const refuse = (key: 'backups_dir' | 'current' | 'deploy_to', why: string) =>
      ctx.addIssue({ code: 'custom', path: [key], message: `${key} does not go with ${why}` });
    if (t.layout) {
      if (!t.deploy_to) need('deploy_to');
      if (t.backups_dir) refuse('backups_dir', `layout: ${t.layout} (releases are <deploy_to>/releases): remove it`);
      if (t.current) refuse('current', `layout: ${t.layout} (the link is <deploy_to>/current): remove it`);
    } else {
      if (t.deploy_to) refuse('deploy_to', 'no layout: add layout: capistrano or layout: deployer, or use backups_dir and current');
      if (!t.backups_dir) need('backups_dir');
      if (!t.current) need('current');
    }
  });

export const GitTargetSchema = z.strictObject({
  strategy: z.literal('git'),
  repo: z.string().min(1),
  backups_dir: z.string().min(1).optional().describe('Where deployed commits are recorded; default <repo>/.rollback.'),
  keep: posInt.optional(),
  validate: z.array(z.string()).optional(),
  build: z.array(z.string()).default([]).describe('Run in the repo after checkout (install, build).'),
});

export const FilesTargetSchema = z.strictObject({
  strategy: z.literal('files'),
  ...commonTarget,
  files: z.array(z.string().min(1)).min(1).describe('Configuration files to version.'),
});

/** A container name as docker and podman accept it (also the release prefix: `<name>-<version>`). */
export const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export const ContainerTargetSchema = z.strictObject({
  strategy: z.literal('container'),
  engine: z.enum(['docker', 'podman']).default('docker').describe('The container CLI run on the target host (through the executor).'),
  name: z
    .string()
    .regex(CONTAINER_NAME)
    .describe('Releases are the containers named <name>-<version>; the running one is live.'),
  keep: posInt.optional().describe('Retention after a rollback: stopped release containers kept (never the live, known-good or target one).'),
  validate: z.array(z.string()).optional().describe('Commands run before a switch; the version is $ROLLBACK_TARGET, the container $ROLLBACK_TARGET_PATH.'),
});

export const TargetSchema = z.discriminatedUnion('strategy', [SymlinkTargetSchema, GitTargetSchema, FilesTargetSchema, ContainerTargetSchema]);

const via = z
  .enum(['local', 'target'])
  .optional()
  .describe('Where the check runs: http and tcp default to local (where the operator is), command to the target host.');

export const HttpCheckSchema = z.strictObject({
  http: z.strictObject({
    url: z.string().url(),
    status: z.number().int().min(100).max(599).default(200),
    timeout_seconds: positive.default(5),
    body: z.string().optional().describe('A regular expression the body must match.'),
    via,
  }),
});
export const TcpCheckSchema = z.strictObject({
  tcp: z.strictObject({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535),
    timeout_seconds: positive.default(5),
    via,
  }),
});
export const CommandCheckSchema = z.strictObject({
  command: z.union([
    z.string().min(1),
    z.strictObject({ run: z.string().min(1), timeout_seconds: positive.default(30), via }),
  ]),
});
export const HealthCheckSchema = z.union([HttpCheckSchema, TcpCheckSchema, CommandCheckSchema]);

export const MetricsSchema = z.strictObject({
  source: z.enum(['probe', 'prometheus', 'command']).default('probe'),
  url: z.string().url().optional().describe('Prometheus base URL (source: prometheus).'),
  queries: z
    .record(z.string(), z.string())
    .optional()
    .describe('PromQL per metric: error_rate, p95_latency_ms, memory_usage_percent, db_connection_errors, ...'),
  command: z.string().optional().describe('Prints one JSON object of metric values (source: command).'),
  memory: z
    .string()
    .optional()
    .describe('A command printing a memory percent, "meminfo" for /proc/meminfo, or an http(s) URL answering a percent or JSON with memory_usage_percent (fetched from this machine).'),
  timeout_seconds: positive.default(5),
});

export const EnvironmentSchema = z.strictObject({
  description: z.string().optional(),
  confirm: z.enum(['type-name', 'yes-no']).default('yes-no'),
  policy: z.record(z.string(), z.unknown()).optional().describe('Overrides merged deeply over rollback_policy.'),
  executor: ExecutorSchema.default({ type: 'local' }),
  rollout: RolloutSchema.optional(),
  target: TargetSchema,
  service: z
    .strictObject({
      stop: z.string().optional(),
      start: z.string().optional(),
      timeout_seconds: positive.default(60),
    })
    .prefault({}),
  maintenance: z.strictObject({ on: z.string().min(1), off: z.string().min(1) }).optional(),
  health: z.array(HealthCheckSchema).default([]),
  metrics: MetricsSchema.prefault({}),
  logs: z
    .strictObject({
      command: z.string().optional(),
      file: z.string().optional(),
      lines: posInt.default(50),
    })
    .optional(),
  state_dir: z.string().optional().describe('History, lock, journal, marks; default <backups_dir>/.rollback.'),
});

export const ConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  theme: z.string().optional().describe('Console theme: a name in themes/ or a path to a JSON theme.'),
  rollback_policy: PolicySchema.prefault({}),
  environments: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/), EnvironmentSchema).default({}),
});

export type Policy = z.infer<typeof PolicySchema>;
export type Triggers = z.infer<typeof TriggersSchema>;
export type TriggerName = keyof Triggers;
export type RollbackSettings = z.infer<typeof RollbackSettingsSchema>;
export type Notifications = z.infer<typeof NotificationsSchema>;
/** An environment's executor as written: one host, or a fleet (`hosts`). */
export type EnvExecutorConfig = z.infer<typeof ExecutorSchema>;
export type FleetHostConfig = z.infer<typeof FleetHostSchema>;
export type RolloutConfig = z.infer<typeof RolloutSchema>;
export type FleetBreach = NonNullable<Policy['fleet']>['breach'];
/** The executor of one host (what an Executor is built from). */
export type SshExecutorConfig = Omit<z.infer<typeof SshExecutorSchema>, 'host' | 'hosts'> & { host: string };
export type ExecutorConfig = { type: 'local' } | SshExecutorConfig;
export type TargetConfig = z.infer<typeof TargetSchema>;
export type SymlinkTargetConfig = z.infer<typeof SymlinkTargetSchema>;
export type GitTargetConfig = z.infer<typeof GitTargetSchema>;
export type FilesTargetConfig = z.infer<typeof FilesTargetSchema>;
export type ContainerTargetConfig = z.infer<typeof ContainerTargetSchema>;
export type HealthCheckConfig = z.infer<typeof HealthCheckSchema>;
export type MetricsConfig = z.infer<typeof MetricsSchema>;
export type EnvironmentConfig = z.infer<typeof EnvironmentSchema>;
export type Config = z.infer<typeof ConfigSchema>;

/**
 * An environment as the rest of the tool sees it: its own settings plus the policy with its overrides
 * already merged (what `config show --env NAME` prints).
 */
export interface ResolvedEnvironment extends Omit<EnvironmentConfig, 'policy'> {
  name: string;
  policy: Policy;
  /** Absolute state directory (on the target host for ssh environments). */
  state_dir: string;
}

/** What the loader returns. */
export interface LoadedConfig {
  config: Config;
  /** The file it came from (absolute), or null for built-in defaults. */
  filepath: string | null;
  /** Non-fatal problems, e.g. "${SLACK_WEBHOOK_URL} is unset: Slack notifications are disabled". */
  warnings: string[];
  /**
   * Environments out of service because a key they need uses an unset variable: name (or `*` for
   * all) -> why. resolveEnvironment refuses them with exit 78. Absent for configs built in code.
   */
  disabled?: Record<string, string>;
  /**
   * Where a key path sits in the file (1-based line and column; `exact: false` when the path is not in
   * the file and the position is its nearest parent). Absent for configs built in code.
   */
  locate?: (path: readonly PropertyKey[]) => { file: string; line: number; col: number; exact: boolean } | undefined;
}
