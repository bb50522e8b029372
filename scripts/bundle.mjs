/**
 * Bundles the CLI into dist/app/ with esbuild: one entry file plus lazily loaded chunks, so a
 * subcommand loads only the code it runs (the console's React and ink stay out of `list` and
 * `--version`). tsc still typechecks and emits dist/ for the benchmarks' module imports.
 *
 * Every output file sits directly in dist/app/, two levels below the package root, like the tsc
 * output's dist/cli/: code that finds package.json, themes/ or demo/ relative to its own file works
 * the same from both.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist', 'app');
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  // ink loads the React devtools only when DEV=true; they are not a dependency.
  // cosmiconfig's loader for .ts config files is never used (config files are YAML, JSON or JS).
  external: ['react-devtools-core', 'typescript'],
  metafile: true,
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __rtCreateRequire } from 'node:module'; const require = __rtCreateRequire(import.meta.url);" },
});
if (process.env.BUNDLE_ANALYZE) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));
