/**
 * The one formatting module: numbers, IEC bytes and durations, and both surfaces using it. The command
 * line's `list --sizes` (the built bin on a real symlink store) and the console's backups panel say the
 * same units for the same release.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatAge, formatBytes, formatDuration, formatNumber, formatWindow } from '../../src/core/format.js';
import { formatSize } from '../../src/cli/actions/list.js';
import { bytes, duration, num } from '../../src/ui/format.js';
import { bin, makeFixture, type Fixture } from '../engine/fixture.js';

describe('formatNumber', () => {
  it('keeps three significant digits at most and drops trailing zeros', () => {
    expect(formatNumber(151.4)).toBe('151');
    expect(formatNumber(12.46)).toBe('12.5');
    expect(formatNumber(5)).toBe('5');
    expect(formatNumber(2.5)).toBe('2.5');
    expect(formatNumber(0.125)).toBe('0.125');
    expect(formatNumber(-0.0001)).toBe('0');
    expect(formatNumber(40, { unit: '%' })).toBe('40%');
  });
  it('says what is missing: "?" by default, the console\'s "-"', () => {
    expect(formatNumber(null)).toBe('?');
    expect(formatNumber(Number.NaN)).toBe('?');
    expect(num(undefined, 'ms')).toBe('-');
    expect(num(130, 'ms')).toBe('130ms');
  });
});

describe('formatBytes', () => {
  it('uses IEC units (1 KiB = 1024 B), one decimal below 10', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1 KiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 * 1024 + 300_000)).toBe('12 MiB');
    expect(formatBytes(1024 * 1024 - 1)).toBe('1 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3 GiB');
  });
  it('the command line and the console say the same units', () => {
    for (const n of [512, 1536, 20 * 1024, 5.5 * 1024 * 1024, 2 * 1024 ** 3]) {
      expect(bytes(n)).toBe(formatSize(n).replace(' ', ''));
    }
    expect(bytes(1536)).toBe('1.5KiB');
    expect(bytes(null)).toBe('');
    expect(formatSize(null)).toBe('-');
  });
});

describe('formatDuration', () => {
  it('ms under a second, tenths of seconds under a minute, then minutes and seconds', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(59_960)).toBe('1 min 0 s');
    expect(formatDuration(123_400)).toBe('2 min 3 s');
    expect(formatDuration(119_600)).toBe('2 min 0 s');
    expect(formatDuration(null)).toBe('n/a');
  });
  it('the console form is compact with the same units', () => {
    expect(duration(850)).toBe('850ms');
    expect(duration(1500)).toBe('1.5s');
    expect(duration(123_400)).toBe('2m3s');
    expect(duration(null)).toBe('-');
  });
  it('windows and ages', () => {
    expect(formatWindow(300_000)).toBe('5m');
    expect(formatWindow(90_000)).toBe('90s');
    expect(formatWindow(1200)).toBe('1.2s');
    expect(formatAge(0, 45_000)).toBe('45s');
    expect(formatAge(0, 12 * 60_000)).toBe('12m');
    expect(formatAge(0, 3 * 3_600_000)).toBe('3h');
    expect(formatAge(0, 3 * 86_400_000)).toBe('3d');
  });
});

describe('list --sizes on a real store', () => {
  let fx: Fixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it('prints sizes in IEC units', async () => {
    fx = await makeFixture({ noStart: true });
    const live = fx.live();
    fs.writeFileSync(path.join(fx.layout.backupsDir, live, 'payload.bin'), Buffer.alloc(3 * 1024 * 1024 + 512 * 1024));
    const r = spawnSync(process.execPath, [bin, '--config', fx.configFile, 'list', '--env', fx.envName, '--sizes'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const row = r.stdout.split('\n').find((l) => l.includes(live));
    expect(row).toMatch(/\b3\.\d MiB\b/);
    expect(r.stdout).not.toMatch(/\d(KB|MB|GB)\b/);
  });
});
