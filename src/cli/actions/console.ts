/**
 * What the console's entry (commands/console.ts) runs: the UI (React, ink) is imported here, so
 * subcommands never pay for loading it.
 */
import { rollbackInProgress } from '../../core/engine/engine.js';
import { openEnvironment } from '../../core/environment.js';
import { isFleet } from '../../core/fleet/hosts.js';
import type { OpenConsole } from '../context.js';
import { trackRollbacks } from '../in-flight.js';

/** Variables that make ink think it runs in CI (it then prints nothing until exit). */
const CI_VARS = ['CI', 'CONTINUOUS_INTEGRATION'];

/**
 * Import the UI (React, ink) the way the console needs it: with CI markers hidden (the console only runs
 * on a real terminal, so it must draw) and React's production build (NODE_ENV is read once, at import;
 * the development build costs several times the CPU per frame). The process environment is restored
 * right after, so commands the console runs see it unchanged. Use this for every console entry point.
 */
export async function loadConsoleUi(env: NodeJS.ProcessEnv = process.env): Promise<typeof import('../../ui/run.js')> {
  const saved = new Map<string, string | undefined>();
  for (const k of Object.keys(env)) if (CI_VARS.includes(k) || k.startsWith('CI_')) saved.set(k, env[k]);
  saved.set('NODE_ENV', env.NODE_ENV);
  for (const k of saved.keys()) delete env[k];
  if (saved.get('NODE_ENV') === undefined) env.NODE_ENV = 'production';
  try {
    return await import('../../ui/run.js');
  } finally {
    delete env.NODE_ENV;
    for (const [k, v] of saved) if (v !== undefined) env[k] = v;
  }
}

export const openConsole: OpenConsole = async (ctx, opts) => {
  trackRollbacks(rollbackInProgress);
  const { loaded, env } = await ctx.resolveEnv(opts);
  // The first listing of the backups (a process here, a round trip over SSH) runs while the console's
  // code loads, not after its first frame: the first frame with the backups comes that much sooner.
  const handle = isFleet(env) ? null : openEnvironment(env);
  const firstBackups = handle?.store.list({ sizes: true });
  firstBackups?.catch(() => undefined);
  try {
    const { runConsole } = await loadConsoleUi(process.env);
    const base = loaded.filepath ? loaded.filepath.replace(/\/[^/]*$/, '') : ctx.cwd;
    return await runConsole({
      env,
      ...(handle && firstBackups ? { handle, firstBackups } : {}),
      version: ctx.version,
      theme: {
        flag: ctx.globals.theme,
        config: loaded.config.theme,
        noColor: ctx.globals.color === false,
        baseDir: base,
      },
      processEnv: ctx.env,
    });
  } finally {
    await handle?.close().catch(() => undefined);
  }
};
