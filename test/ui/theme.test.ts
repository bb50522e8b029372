import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THEME, MONOCHROME_THEME, availableThemes, isMonochrome, loadTheme, parseTheme, themesDir } from '../../src/ui/theme.js';

describe('themes', () => {
  it('ships default, high-contrast and monochrome, all valid', () => {
    const names = availableThemes();
    expect(names).toEqual(expect.arrayContaining(['default', 'high-contrast', 'monochrome']));
    for (const n of names) expect(() => parseTheme(fs.readFileSync(path.join(themesDir(), `${n}.json`), 'utf8'), n)).not.toThrow();
  });

  it('the shipped default equals the built-in fallback', () => {
    const shipped = parseTheme(fs.readFileSync(path.join(themesDir(), 'default.json'), 'utf8'), 'default');
    expect(shipped.colors).toEqual(DEFAULT_THEME.colors);
  });

  it('--theme wins over the config key', () => {
    expect(loadTheme({ flag: 'high-contrast', config: 'monochrome', env: {} }).theme.name).toBe('high-contrast');
    expect(loadTheme({ config: 'high-contrast', env: {} }).theme.name).toBe('high-contrast');
    expect(loadTheme({ env: {} }).theme.name).toBe('default');
  });

  it('NO_COLOR and --no-color select monochrome', () => {
    expect(loadTheme({ flag: 'high-contrast', env: { NO_COLOR: '1' } }).theme).toBe(MONOCHROME_THEME);
    expect(loadTheme({ noColor: true, env: {} }).theme).toBe(MONOCHROME_THEME);
    expect(isMonochrome(MONOCHROME_THEME)).toBe(true);
    expect(isMonochrome(DEFAULT_THEME)).toBe(false);
  });

  it('a broken or unknown theme falls back to the default with a warning', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'theme-'));
    fs.writeFileSync(path.join(dir, 'broken.json'), JSON.stringify({ name: 'broken', colors: { ok: 'chartreuse' } }));
    fs.writeFileSync(path.join(dir, 'junk.json'), '{ not json');
    for (const flag of ['broken', 'junk', 'missing', '../etc']) {
      const r = loadTheme({ flag, env: {}, dir });
      expect(r.theme).toBe(DEFAULT_THEME);
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toContain('using the default theme');
    }
    expect(loadTheme({ flag: 'broken', env: {}, dir }).warnings[0]).toMatch(/colors/);
  });

  it('a theme may be a path relative to the config file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'theme-'));
    const custom = { ...DEFAULT_THEME, name: 'mine' };
    fs.writeFileSync(path.join(dir, 'mine.json'), JSON.stringify(custom));
    expect(loadTheme({ config: './mine.json', baseDir: dir, env: {} }).theme.name).toBe('mine');
  });
});
