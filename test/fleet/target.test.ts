/**
 * The fleet's one target (pure): the newest backup older than live that is usable on every host and
 * marked bad on none; drift needs --to; --to must be usable on every host; and the fleet list summary.
 */
import { describe, expect, it } from 'vitest';
import { chooseFleetTarget, fleetBackups, type HostListing } from '../../src/core/fleet/target.js';
import type { Backup } from '../../src/core/stores/types.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2024-11-12T10:00:00Z');

/** r1 (oldest) .. rN; `live` is current; options mark others. */
function host(name: string, releases: string[], live: string | null, marks: { bad?: string[]; good?: string[]; unusable?: string[]; damaged?: boolean } = {}): HostListing {
  const backups: Backup[] = releases.map((r) => {
    const n = Number(r.slice(1));
    return {
      name: r,
      created: new Date(T0 + n * HOUR).toISOString(),
      createdMs: T0 + n * HOUR,
      sizeBytes: null,
      current: r === live,
      knownGood: marks.good?.includes(r) ?? false,
      bad: marks.bad?.includes(r) ?? false,
      ...(marks.unusable?.includes(r) ? { unusable: 'a symlink, not a release directory' } : {}),
      ...(marks.damaged ? { marksDamaged: `marks file /s/${name}/marks.json is damaged` } : {}),
    };
  });
  return { name, backups: backups.reverse() };
}

describe('chooseFleetTarget', () => {
  it('the newest release older than live present on every host', () => {
    const c = chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3'), host('b', ['r1', 'r2', 'r3'], 'r3')]);
    expect(c).toEqual({ ok: true, target: 'r2', live: { a: 'r3', b: 'r3' }, onTarget: [], warnings: [] });
  });

  it('skips a release missing on one host, marked bad on one host, or unusable on one host', () => {
    expect(chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3'), host('b', ['r1', 'r3'], 'r3')])).toMatchObject({ ok: true, target: 'r1' });
    expect(chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3'), host('b', ['r1', 'r2', 'r3'], 'r3', { bad: ['r2'] })])).toMatchObject({ ok: true, target: 'r1' });
    expect(chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3', { unusable: ['r2'] }), host('b', ['r1', 'r2', 'r3'], 'r3')])).toMatchObject({ ok: true, target: 'r1' });
  });

  it('nothing common: NO_TARGET with the candidates of each host', () => {
    const c = chooseFleetTarget([host('a', ['r1', 'r3'], 'r3'), host('b', ['r2', 'r3'], 'r3')]);
    expect(c).toMatchObject({ ok: false, code: 'NO_TARGET' });
    expect(c.ok ? '' : c.reason).toBe('no backup older than the live r3 exists on every host and is marked bad on none (candidates per host: a: r1; b: r2)');
  });

  it('drift: no default, and the message shows each host\'s live release', () => {
    const c = chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r2'), host('b', ['r1', 'r2', 'r3'], 'r3'), host('c', ['r1', 'r2', 'r3'], 'r3')]);
    expect(c).toMatchObject({ ok: false, code: 'DRIFT', live: { a: 'r2', b: 'r3', c: 'r3' } });
    expect(c.ok ? '' : c.reason).toBe('the hosts run different releases (a on r2; b, c on r3): there is no default target; name the release every host goes to with --to');
  });

  it('drift with --to: fine; hosts already on it are named', () => {
    const c = chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r2'), host('b', ['r1', 'r2', 'r3'], 'r3')], 'r2');
    expect(c).toEqual({ ok: true, target: 'r2', live: { a: 'r2', b: 'r3' }, onTarget: ['a'], warnings: [] });
  });

  it('--to missing or unusable on a host names each such host; bad on one host is a warning', () => {
    const missing = chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3'), host('b', ['r2', 'r3'], 'r3'), host('c', ['r1', 'r3'], 'r3', { unusable: ['r1'] })], 'r1');
    expect(missing).toMatchObject({ ok: false, code: 'BACKUP_NOT_FOUND' });
    expect(missing.ok ? '' : missing.reason).toBe('backup "r1" is not usable on every host: b: not found; c: unusable (a symlink, not a release directory)');
    const bad = chooseFleetTarget([host('a', ['r1', 'r2', 'r3'], 'r3', { bad: ['r2'] }), host('b', ['r1', 'r2', 'r3'], 'r3')], 'r2');
    expect(bad).toMatchObject({ ok: true, target: 'r2', warnings: ['r2 is marked bad on a (a release was rolled back away from it there)'] });
  });

  it('damaged marks on a host: no default target (which releases are bad is unknown)', () => {
    const c = chooseFleetTarget([host('a', ['r1', 'r2'], 'r2'), host('b', ['r1', 'r2'], 'r2', { damaged: true })]);
    expect(c).toMatchObject({ ok: false, code: 'MARKS_DAMAGED' });
    expect(c.ok ? '' : c.reason).toMatch(/^the marks of b are damaged/);
  });
});

describe('fleetBackups', () => {
  it('present_on, current_on; current only when live on every host; bad on any; known-good on every host it is on', () => {
    const list = fleetBackups([
      host('a', ['r1', 'r2', 'r3'], 'r3', { good: ['r1'], bad: ['r2'] }),
      host('b', ['r1', 'r3'], 'r3', { good: ['r1'] }),
      host('c', ['r2', 'r3', 'r4'], 'r4'),
    ]);
    expect(list.map((b) => [b.name, b.presentOn, b.currentOn, b.current, b.knownGood, b.bad])).toEqual([
      ['r4', ['c'], ['c'], false, false, false],
      ['r3', ['a', 'b', 'c'], ['a', 'b'], false, false, false],
      ['r2', ['a', 'c'], [], false, false, true],
      ['r1', ['a', 'b'], [], false, true, false],
    ]);
    const same = fleetBackups([host('a', ['r1', 'r2'], 'r2'), host('b', ['r1', 'r2'], 'r2')]);
    expect(same[0]).toMatchObject({ name: 'r2', current: true, currentOn: ['a', 'b'] });
  });
});
