/**
 * Where the configuration comes from, in this order: `--config FILE`, then `$ROLLBACK_CONFIG`, then
 * cosmiconfig from the working directory upward (rollback-config.yml, rollback-config.yaml, .rollbackrc,
 * .rollbackrc.yml/.yaml/.json, package.json#rollback), then `$XDG_CONFIG_HOME/rollback-tui/config.yml`
 * (default ~/.config). Nothing found is a ConfigError (78) naming the places searched.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { ConfigError } from '../errors.js';

export const SEARCH_PLACES = [
  'rollback-config.yml',
  'rollback-config.yaml',
  '.rollbackrc',
  '.rollbackrc.yml',
  '.rollbackrc.yaml',
  '.rollbackrc.json',
  'package.json',
] as const;

export interface LoadOptions {
  /** `--config FILE` (relative to cwd). */
  configPath?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Found {
  filepath: string;
  /** Take the `rollback` property of a package.json. */
  packageProp: boolean;
}

function globalConfigPath(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
  const home = env.HOME || os.homedir();
  return path.join(xdg ?? path.join(home, '.config'), 'rollback-tui', 'config.yml');
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function explicitFile(p: string, cwd: string, from: string): Promise<Found> {
  const filepath = path.resolve(cwd, p);
  if (!(await isFile(filepath))) {
    throw new ConfigError(`config file ${filepath} (from ${from}) does not exist or is not a file`, `check the path, or run \`rollback-tui config check --config FILE\` with an existing file`);
  }
  return { filepath, packageProp: path.basename(filepath) === 'package.json' };
}

/** Where the configuration comes from, in the documented order; a ConfigError (78) if nowhere. */
export async function findConfigFile(opts: LoadOptions = {}): Promise<Found> {
  const env = opts.env ?? process.env;
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  if (opts.configPath) return explicitFile(opts.configPath, cwd, '--config');
  if (env.ROLLBACK_CONFIG) return explicitFile(env.ROLLBACK_CONFIG, cwd, 'ROLLBACK_CONFIG');

  // cosmiconfig does the upward search; the loaders only say "found" (package.json: "has #rollback"),
  // the file is read and parsed below with positions kept.
  const found = (_filepath: string, _content: string) => ({ found: true });
  const explorer = cosmiconfig('rollback-tui', {
    searchPlaces: [...SEARCH_PLACES],
    packageProp: 'rollback',
    searchStrategy: 'global',
    stopDir: path.parse(cwd).root,
    cache: false,
    loaders: {
      '.yml': found,
      '.yaml': found,
      noExt: found,
      '.json': (filepath: string, content: string) => {
        if (path.basename(filepath) !== 'package.json') return { found: true };
        try {
          return JSON.parse(content) as unknown;
        } catch {
          return null;
        }
      },
    },
  });
  let result: { filepath: string; isEmpty?: boolean } | null = null;
  try {
    result = await explorer.search(cwd);
  } catch (err) {
    throw new ConfigError(`searching for the configuration failed: ${(err as Error).message}`, 'pass the file with --config FILE', err);
  }
  // Only a file in the working directory or above counts (not cosmiconfig's own global folder).
  if (result && !result.isEmpty) {
    const dir = path.dirname(result.filepath);
    const rel = path.relative(dir, cwd);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) {
      return { filepath: result.filepath, packageProp: path.basename(result.filepath) === 'package.json' };
    }
  }
  const global = globalConfigPath(env);
  if (await isFile(global)) return { filepath: global, packageProp: false };
  throw new ConfigError(
    `no configuration found: looked for ${SEARCH_PLACES.slice(0, 6).join(', ')} and package.json#rollback in ${cwd} and every folder above it, then ${global}`,
    'pass one with --config FILE (or set ROLLBACK_CONFIG=FILE); the commented example rollback-config.yml in the package shows every key',
  );
}
