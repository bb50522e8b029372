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

/**
 * zod re-exports its ~40 message locales as `z.locales` (half of its code: compiled at every start of a
 * command that reads the configuration). Only English is used (zod sets it itself, from its own import of
 * locales/en.js): `z.locales` keeps just `en`.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)) return undefined;
      return { path: path.join(path.dirname(args.importer), '..', 'locales', 'index.js'), namespace: 'zod-english-only' };
    });
    b.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: 'export { default as en } from "./en.js";\n',
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};
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
  plugins: [zodEnglishOnly],
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
  // Some bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __rtCreateRequire } from 'node:module'; const require = __rtCreateRequire(import.meta.url);" },
});
if (process.env.BUNDLE_ANALYZE) console.log(await (await import('esbuild')).analyzeMetafile(result.metafile));
