/**
 * Themes are data: a JSON palette in themes/ mapped to semantic tokens (status, focus, dangerous, chart
 * series). Loaded and validated with zod; a broken or unknown theme falls back to the default with a
 * warning, never a crash. NO_COLOR / --no-color select the monochrome theme, which stays readable because
 * every state is also written in words and symbols.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const NAMED = [
  'black',
  'red',
  'green',
  'yellow',
  'blue',
  'magenta',
  'cyan',
  'white',
  'gray',
  'grey',
  'blackBright',
  'redBright',
  'greenBright',
  'yellowBright',
  'blueBright',
  'magentaBright',
  'cyanBright',
  'whiteBright',
] as const;

const ColorSchema = z
  .string()
  .refine((c) => (NAMED as readonly string[]).includes(c) || /^#[0-9a-fA-F]{6}$/.test(c), {
    message: `a colour is one of ${NAMED.join(', ')} or #rrggbb`,
  })
  .nullable();

export const ThemeSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  colors: z.strictObject({
    text: ColorSchema,
    muted: ColorSchema,
    accent: ColorSchema,
    border: ColorSchema,
    focus: ColorSchema,
    ok: ColorSchema,
    warning: ColorSchema,
    breached: ColorSchema,
    inconclusive: ColorSchema,
    collecting: ColorSchema,
    disabled: ColorSchema,
    dangerous: ColorSchema,
    prod: ColorSchema,
    nonProd: ColorSchema,
    info: ColorSchema,
    chart: z.strictObject({
      value: ColorSchema,
      baseline: ColorSchema,
      threshold: ColorSchema,
      up: ColorSchema,
      down: ColorSchema,
      /** Background of a breach window in the charts view; optional so older theme files still load. */
      breach: ColorSchema.optional(),
    }),
  }),
});

export type Theme = z.infer<typeof ThemeSchema>;
export type ColorToken = Exclude<keyof Theme['colors'], 'chart'>;
export type ChartToken = keyof Theme['colors']['chart'];

/** Built into the code so a missing or broken themes/ directory still leaves a usable console. */
export const DEFAULT_THEME: Theme = {
  name: 'default',
  colors: {
    text: null,
    muted: 'gray',
    accent: 'cyan',
    border: 'gray',
    focus: 'cyan',
    ok: 'green',
    warning: 'yellow',
    breached: 'red',
    inconclusive: 'magenta',
    collecting: 'blue',
    disabled: 'gray',
    dangerous: 'red',
    prod: 'red',
    nonProd: 'green',
    info: 'cyan',
    chart: { value: 'cyan', baseline: 'green', threshold: 'red', up: 'green', down: 'red', breach: '#4a1414' },
  },
};

export const MONOCHROME_THEME: Theme = {
  name: 'monochrome',
  colors: {
    text: null,
    muted: null,
    accent: null,
    border: null,
    focus: null,
    ok: null,
    warning: null,
    breached: null,
    inconclusive: null,
    collecting: null,
    disabled: null,
    dangerous: null,
    prod: null,
    nonProd: null,
    info: null,
    chart: { value: null, baseline: null, threshold: null, up: null, down: null, breach: null },
  },
};

/** The shipped themes/ directory (next to package.json, from src/ui or dist/ui alike). */
export function themesDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'themes');
}

export interface ThemeRequest {
  /** --theme NAME (wins over the config key). */
  flag?: string | undefined;
  /** The config file's `theme:` key. */
  config?: string | undefined;
  /** --no-color given. */
  noColor?: boolean | undefined;
  /** The process environment (NO_COLOR). */
  env?: NodeJS.ProcessEnv | undefined;
  /** Where named themes live (tests). */
  dir?: string | undefined;
  /** Base directory for relative theme paths (the config file's directory). */
  baseDir?: string | undefined;
}

export interface LoadedTheme {
  theme: Theme;
  /** Non-fatal problems: runConsole prints them on stderr before it takes the screen, and logs them as events. */
  warnings: string[];
}

/** Parse and validate one theme document; throws with a readable message. */
export function parseTheme(text: string, source: string): Theme {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${source}: not valid JSON (${(err as Error).message})`);
  }
  const r = ThemeSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new Error(`${source}: ${where}: ${issue?.message ?? 'invalid theme'}`);
  }
  return r.data;
}

/** Resolve a name ("high-contrast") or a path ("./my-theme.json") to a theme file. */
function themeFile(nameOrPath: string, dir: string, baseDir: string | undefined): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return path.resolve(baseDir ?? process.cwd(), nameOrPath);
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(nameOrPath)) throw new Error(`"${nameOrPath}" is not a theme name`);
  return path.join(dir, `${nameOrPath}.json`);
}

export function availableThemes(dir = themesDir()): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** Pick and load the theme: NO_COLOR / --no-color -> monochrome; else --theme, else config, else default. */
export function loadTheme(req: ThemeRequest = {}): LoadedTheme {
  const env = req.env ?? process.env;
  const dir = req.dir ?? themesDir();
  const warnings: string[] = [];
  const noColor = req.noColor === true || (env.NO_COLOR !== undefined && env.NO_COLOR !== '');
  if (noColor) return { theme: MONOCHROME_THEME, warnings };
  const wanted = req.flag ?? req.config ?? 'default';
  try {
    const file = themeFile(wanted, dir, req.flag === undefined ? req.baseDir : undefined);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      const known = availableThemes(dir);
      throw new Error(`theme "${wanted}" not found (${file})${known.length ? `; available: ${known.join(', ')}` : ''}`);
    }
    return { theme: parseTheme(text, file), warnings };
  } catch (err) {
    warnings.push(`${(err as Error).message}; using the default theme`);
    return { theme: DEFAULT_THEME, warnings };
  }
}

/** Ink `color` prop for a token (undefined = terminal default, which is what monochrome wants). */
export function color(theme: Theme, token: ColorToken): string | undefined {
  return theme.colors[token] ?? undefined;
}

export function chartColor(theme: Theme, token: ChartToken): string | undefined {
  return theme.colors.chart[token] ?? undefined;
}

export function isMonochrome(theme: Theme): boolean {
  return Object.values(theme.colors).every((v) => v === null || (typeof v === 'object' && Object.values(v).every((x) => x === null)));
}
