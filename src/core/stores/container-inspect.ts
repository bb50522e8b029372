/**
 * Reading `<engine> container inspect` and `<engine> image inspect` output the same way for docker and
 * podman (they differ in small ways: docker's names start with `/` and its image ids with `sha256:`;
 * podman reports the image digest on the container, docker only as RepoDigests on the image), what a
 * container needs to start (its image, named volumes, bind sources, networks), and the difference
 * between two containers' configurations for the incident report, with env values redacted.
 */

/** The fields of one container that rollback-tui uses, engine differences removed. */
export interface ContainerInfo {
  /** The container name, without docker's leading `/`. */
  name: string;
  createdMs: number;
  /** The nanoseconds below the ms of the creation time: the tie-breaker for equal ms. */
  createdSubMs: number;
  /** running, exited, created, paused, restarting, ... */
  status: string;
  /** Holds the live slot: running, restarting or paused. */
  running: boolean;
  /** The image id, without `sha256:`. */
  imageId: string;
  /** The image as named at creation (`registry/app:v3`), when the engine reports it. */
  imageRef: string;
  /** The image digest podman records on the container (`sha256:...`), or ''. */
  imageDigest: string;
  volumes: string[];
  bindSources: string[];
  networks: string[];
  /** The inspect document itself, for the incident report's difference. */
  raw: Record<string, unknown>;
}

export interface ImageInfo {
  id: string;
  /** `sha256:...` (podman's Digest, else docker's first RepoDigest), or ''. */
  digest: string;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export const stripSha = (id: string): string => id.replace(/^sha256:/, '');

/** Network modes that are not a network object the engine could be missing. */
const BUILTIN_NETWORK_MODES = /^(|default|host|none|bridge|private|slirp4netns|pasta|container:.*|ns:.*|service:.*)$/;

/**
 * Parse an ISO-8601 time with any number of fraction digits (the engines print nanoseconds) into epoch
 * ms and the nanoseconds below the ms (NaN ms when unreadable).
 */
export function parseEngineTime(text: string): { ms: number; subMs: number } {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text.trim());
  if (!m) return { ms: Date.parse(text), subMs: 0 };
  const frac = (m[2] ?? '').padEnd(9, '0').slice(0, 9);
  return { ms: Date.parse(`${m[1]}.${frac.slice(0, 3)}${m[3]}`), subMs: Number(frac.slice(3)) };
}

/** One container inspect document (one element of the array the engine prints). */
export function containerInfo(doc: unknown): ContainerInfo {
  const d = obj(doc);
  const state = obj(d.State);
  const config = obj(d.Config);
  const created = parseEngineTime(str(d.Created));
  const mounts = Array.isArray(d.Mounts) ? d.Mounts.map(obj) : [];
  // Every network the container is attached to must exist (the engine's default ones always do).
  const networks = Object.keys(obj(obj(d.NetworkSettings).Networks));
  const mode = str(obj(d.HostConfig).NetworkMode);
  if (!BUILTIN_NETWORK_MODES.test(mode) && !networks.includes(mode)) networks.push(mode);
  return {
    name: str(d.Name).replace(/^\//, ''),
    createdMs: created.ms,
    createdSubMs: created.subMs,
    status: str(state.Status) || (state.Running === true ? 'running' : 'unknown'),
    // Restarting (a crash loop) and paused containers hold the live slot too.
    running: state.Running === true || ['running', 'restarting', 'paused'].includes(str(state.Status)),
    imageId: stripSha(str(d.Image)),
    imageRef: str(d.ImageName) || str(config.Image),
    imageDigest: str(d.ImageDigest),
    volumes: mounts.filter((m) => m.Type === 'volume').map((m) => str(m.Name)).filter(Boolean),
    bindSources: mounts.filter((m) => m.Type === 'bind').map((m) => str(m.Source)).filter(Boolean),
    networks,
    raw: d,
  };
}

/**
 * The bind sources that must exist for the container to start. podman refuses to start without any of
 * them; docker creates a missing `-v` source as an empty directory and only refuses `--mount` ones
 * (HostConfig.Mounts), so only those count there.
 */
export function requiredBindSources(c: ContainerInfo, engine: 'docker' | 'podman'): string[] {
  if (engine === 'podman') return c.bindSources;
  const mounts = obj(c.raw.HostConfig).Mounts;
  const strict = new Set((Array.isArray(mounts) ? mounts.map(obj) : []).filter((m) => m.Type === 'bind').map((m) => str(m.Source)));
  return c.bindSources.filter((b) => strict.has(b));
}

export function imageInfo(doc: unknown): ImageInfo {
  const d = obj(doc);
  const repoDigest = Array.isArray(d.RepoDigests) ? str(d.RepoDigests[0]) : '';
  return { id: stripSha(str(d.Id)), digest: str(d.Digest) || (repoDigest.includes('@') ? repoDigest.slice(repoDigest.indexOf('@') + 1) : '') };
}

/** The first 12 hex digits of an id or digest (`sha256:` dropped), as `docker ps` shows ids. */
export const shortId = (id: string): string => stripSha(id).slice(0, 12);

/**
 * What differs between two containers' configurations, one line per setting: the image, then every
 * leaf of Config, HostConfig and Mounts that differs. Env values never appear (only which variables
 * were added, removed or changed): they hold secrets. Volatile fields (ids, paths, state) are left out.
 */
export function inspectDifference(from: ContainerInfo, to: ContainerInfo, limit = 200): string[] {
  const lines: string[] = [];
  if (from.imageId !== to.imageId) lines.push(`image: ${shortId(from.imageId)} (${from.imageRef || '?'}) -> ${shortId(to.imageId)} (${to.imageRef || '?'})`);
  else lines.push(`image: same (${shortId(to.imageId)} ${to.imageRef})`);
  const envA = envMap(from.raw);
  const envB = envMap(to.raw);
  for (const k of [...new Set([...envA.keys(), ...envB.keys()])].sort()) {
    const a = envA.get(k);
    const b = envB.get(k);
    if (a === b) continue;
    lines.push(`env ${k}: ${a === undefined ? 'added' : b === undefined ? 'removed' : 'value changed (values redacted)'}`);
  }
  const flatA = comparable(from.raw);
  const flatB = comparable(to.raw);
  for (const k of [...new Set([...flatA.keys(), ...flatB.keys()])].sort()) {
    const a = flatA.get(k);
    const b = flatB.get(k);
    if (a !== b) lines.push(`${k}: ${a ?? '(unset)'} -> ${b ?? '(unset)'}`);
  }
  return lines.length > limit ? [...lines.slice(0, limit), `... ${lines.length - limit} more differences`] : lines;
}

function envMap(raw: Json): Map<string, string> {
  const env = obj(raw.Config).Env;
  const m = new Map<string, string>();
  for (const e of Array.isArray(env) ? env : []) {
    const s = str(e);
    const i = s.indexOf('=');
    if (i > 0) m.set(s.slice(0, i), s.slice(i + 1));
  }
  return m;
}

/** Keys whose values differ between any two containers without saying anything about the release. */
const VOLATILE = /^(Config\.(Env|Hostname|Image|CreateCommand|Annotations\..*Created)|HostConfig\.(ContainerIDFile|LogConfig\.Config\..*)|.*\.(Id|ID)|.*Path)$/;

function comparable(raw: Json): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, key: string): void => {
    if (VOLATILE.test(key)) return;
    if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) out.set(key, JSON.stringify(v));
      else v.forEach((x, i) => walk(x, `${key}[${i}]`));
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(x, `${key}.${k}`);
    } else if (v !== null && v !== undefined && v !== '') {
      out.set(key, JSON.stringify(v));
    }
  };
  walk(raw.Config, 'Config');
  walk(raw.HostConfig, 'HostConfig');
  walk(raw.Mounts, 'Mounts');
  return out;
}
