/**
 * The esbuild plugins and defines of the CLI bundle (scripts/bundle.mjs), shared with the benchmark that
 * measures a console frame as it ships (bench/frame-cost.mjs).
 */
import path from 'node:path';

/**
 * React's production build only, as the console runs it (loadConsoleUi sets NODE_ENV before importing
 * the UI): the development builds of react and react-reconciler are not bundled, a third less code to
 * load before the console's first frame.
 */
export const BUNDLE_DEFINE = { 'process.env.NODE_ENV': '"production"' };

/**
 * zod re-exports its ~40 message locales as `z.locales` (half of its code: compiled at every start of a
 * command that reads the configuration). Only English is used (zod sets it itself, from its own import of
 * locales/en.js): `z.locales` keeps just `en`.
 */
export const zodEnglishOnly = {
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

/**
 * ink draws the whole screen on every change and measures and tokenizes every line of it anew, with
 * caches that live for one frame. At rest most lines are the same from one frame to the next (the
 * panels, the flat parts of the charts), and the measuring (string-width: a grapheme segmenter and an
 * emoji test per braille cell), tokenizing (@alcalzone/ansi-tokenize) and clipping (slice-ansi) were
 * most of a frame's cost. This plugin gives ink's imports of the three a cache across frames: results
 * keyed by the line, two generations of a fixed size (the older generation is dropped whole when the
 * newer one fills), so the memory stays bounded however long the console runs. The functions are pure, so
 * a cached answer is the answer; ink never mutates the styled characters it gets (it copies them into its
 * frame).
 */
const GENERATION_CACHE = `
function generationCache(size) {
  let recent = new Map();
  let older = new Map();
  return (key, compute) => {
    let v = recent.get(key);
    if (v !== undefined) return v;
    v = older.get(key);
    if (v === undefined) v = compute(key);
    if (recent.size >= size) {
      older = recent;
      recent = new Map();
    }
    recent.set(key, v);
    return v;
  };
}
`;
export const frameCaches = {
  name: 'frame-caches',
  setup(b) {
    const wrap = (filter, importers, namespace) =>
      b.onResolve({ filter }, async (args) => {
        if (args.pluginData === namespace || !importers.test(args.importer)) return undefined;
        // Resolve the real module (marked, so that this callback passes it by).
        const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: namespace });
        if (real.errors.length > 0) return { errors: real.errors };
        return { path: real.path, namespace };
      });
    // string-width as ink, widest-line (ink's measuring of each text), wrap-ansi and cli-truncate use it.
    wrap(/^string-width$/, /[\\/]node_modules[\\/](ink|widest-line|wrap-ansi|cli-truncate)[\\/]/, 'cached-string-width');
    b.onLoad({ filter: /.*/, namespace: 'cached-string-width' }, (args) => ({
      contents: `import stringWidth from ${JSON.stringify(args.path)};
${GENERATION_CACHE}
const widths = generationCache(2048);
export default function cachedStringWidth(text, options) {
  if (options !== undefined || typeof text !== 'string') return stringWidth(text, options);
  return widths(text, (t) => stringWidth(t));
}
`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
    // slice-ansi: ink cuts every line of every text inside a box with overflow hidden (the panels, the
    // header, the footer) to the box, on every frame, whether it fits or not.
    wrap(/^slice-ansi$/, /[\\/]node_modules[\\/]ink[\\/]build[\\/]output\.js$/, 'cached-slice-ansi');
    b.onLoad({ filter: /.*/, namespace: 'cached-slice-ansi' }, (args) => ({
      contents: `import sliceAnsi from ${JSON.stringify(args.path)};
${GENERATION_CACHE}
const slices = generationCache(1024);
export default function cachedSliceAnsi(line, start, end) {
  return slices(\`\${start}:\${end}:\${line}\`, () => sliceAnsi(line, start, end));
}
`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
    wrap(/^@alcalzone\/ansi-tokenize$/, /[\\/]node_modules[\\/]ink[\\/]build[\\/]output\.js$/, 'cached-ansi-tokenize');
    b.onLoad({ filter: /.*/, namespace: 'cached-ansi-tokenize' }, (args) => ({
      contents: `export * from ${JSON.stringify(args.path)};
import { tokenize as tokenizeLine, styledCharsFromTokens as styledCharsOf } from ${JSON.stringify(args.path)};
${GENERATION_CACHE}
const styled = generationCache(256);
// ink turns each line into styled characters as styledCharsFromTokens(tokenize(line)): the line is what
// is cached, its styled characters (the tokens are dropped at once, they would double the memory).
const LINE = Symbol('line');
export function tokenize(line, endChar) {
  if (endChar !== undefined) return tokenizeLine(line, endChar);
  return { [LINE]: line };
}
export function styledCharsFromTokens(tokens) {
  const line = tokens[LINE];
  if (line === undefined) return styledCharsOf(tokens);
  return styled(line, (l) => styledCharsOf(tokenizeLine(l)));
}
`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};
