/**
 * Start-up cost of the bundled CLI: what `rollback-tui --version`, `--help` and a usage error load is
 * the entry file and its static imports only. This walks that graph in the built bundle (dist/app/,
 * built by the global setup) through the module comments esbuild writes before each bundled module,
 * and checks the heavy parts stay behind the subcommands' dynamic imports. No timing is asserted.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runBin } from './bin.js';

const APP = path.join(ROOT, 'dist', 'app');

/** Modules bundled into `file` and everything it imports statically, and the chunks it imports dynamically. */
function staticGraph(entry: string): { modules: Set<string>; dynamic: Set<string> } {
  const modules = new Set<string>();
  const dynamic = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(APP, file), 'utf8');
    for (const m of text.matchAll(/^\/\/ (\S+\.(?:[cm]?js|tsx?|json))$/gm)) modules.add(m[1]!);
    for (const m of text.matchAll(/(?:^import [^;]*?from|^import) "\.\/([\w-]+\.js)";?$/gm)) visit(m[1]!);
    for (const m of text.matchAll(/import\("\.\/([\w-]+\.js)"\)/g)) dynamic.add(m[1]!);
  };
  visit(entry);
  return { modules, dynamic };
}

describe('start-up: the entry loads only the command line', () => {
  const { modules, dynamic } = staticGraph('main.js');
  const loaded = [...modules];

  it('the entry and its static imports are commander, the registrars and small helpers', () => {
    expect(loaded.some((m) => m.includes('node_modules/commander/'))).toBe(true);
    expect(loaded).toContain('src/cli/commands/list.ts');
    expect(loaded).toContain('src/cli/commands/rollback.ts');
  });

  it.each([
    ['zod', 'node_modules/zod/'],
    ['yaml', 'node_modules/yaml/'],
    ['cosmiconfig', 'node_modules/cosmiconfig/'],
    ['execa', 'node_modules/execa/'],
    ['ink', 'node_modules/ink/'],
    ['react', 'node_modules/react/'],
    ['the configuration loader', 'src/core/config/load.ts'],
    ['the rollback engine', 'src/core/engine/'],
    ['the stores', 'src/core/stores/'],
    ['the monitor', 'src/core/monitor/'],
    ['the console', 'src/ui/'],
    ['the subcommands\' implementations', 'src/cli/actions/'],
  ])('%s is not loaded at start-up', (_what, fragment) => {
    expect(loaded.filter((m) => m.includes(fragment))).toEqual([]);
  });

  it('each subcommand\'s implementation is a chunk of its own, imported when it runs', () => {
    const actions = new Set<string>();
    for (const chunk of dynamic) for (const m of staticGraph(chunk).modules) if (m.startsWith('src/cli/actions/')) actions.add(path.basename(m, '.ts'));
    expect([...actions].sort()).toEqual(expect.arrayContaining(['config', 'console', 'demo', 'history', 'list', 'monitor', 'rollback', 'snapshot', 'stats', 'verify']));
  });

  it('--version and --help still answer from the entry alone', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const v = await runBin(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await runBin(['--help']);
    expect(h.code).toBe(0);
    for (const cmd of ['rollback', 'list', 'history', 'stats', 'monitor', 'verify', 'snapshot', 'config', 'demo']) expect(h.stdout).toContain(cmd);
  });

  it('zod is bundled with its English messages only (the other locales are half its code)', () => {
    const locales = new Set<string>();
    for (const file of readdirSync(APP).filter((f) => f.endsWith('.js'))) {
      for (const m of readFileSync(path.join(APP, file), 'utf8').matchAll(/^\/\/ \S*node_modules\/zod\/v4\/locales\/(\S+)$/gm)) locales.add(m[1]!);
    }
    expect([...locales].filter((l) => l !== 'index.js')).toEqual(['en.js']);
  });

  it('a mistyped subcommand is still answered with a suggestion', async () => {
    const r = await runBin(['lsit']);
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('did you mean "list"?');
  });
});
