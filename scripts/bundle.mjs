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
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_DEFINE, frameCaches, zodEnglishOnly } from './bundle-plugins.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const outdir = path.join(root, 'dist', 'app');

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
  write: false,
  plugins: [zodEnglishOnly, frameCaches],
  define: BUNDLE_DEFINE,
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __rtCreateRequire } from 'node:module'; const require = __rtCreateRequire(import.meta.url);" },
});
// Each file is written beside its name and renamed over it: a CLI started during a rebuild (a test, an
// operator) reads the old file or the new one, never a half-written one or none. Chunks of an earlier
// build stay a while, since a process started before the rebuild may still import them lazily.
mkdirSync(outdir, { recursive: true });
const written = new Set();
for (const f of result.outputFiles) {
  const tmp = `${f.path}.tmp-${process.pid}`;
  writeFileSync(tmp, f.contents);
  renameSync(tmp, f.path);
  written.add(path.basename(f.path));
}
const staleAfterMs = 60 * 60 * 1000;
for (const name of readdirSync(outdir)) {
  const file = path.join(outdir, name);
  if (!written.has(name) && Date.now() - statSync(file).mtimeMs > staleAfterMs) rmSync(file, { force: true });
}
if (process.env.BUNDLE_ANALYZE) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));
