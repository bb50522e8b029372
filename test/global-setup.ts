/**
 * Build once before the suite: CLI, engine and console tests run the built bin as a child process, as
 * operators and scripts do. A type error does not stop the emit (tsc still writes dist/); CI runs
 * `npm run typecheck` separately, which fails hard, so here a failed check is only reported.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export async function setup(): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (process.env.ROLLBACK_TUI_SKIP_BUILD === '1') return;
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`global-setup: tsc reported problems (dist was still written):\n${r.stdout}${r.stderr}\n`);
  }
  // The bin runs the bundle in dist/app/, as operators do.
  const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`global-setup: bundling failed:\n${b.stdout}${b.stderr}`);
}
