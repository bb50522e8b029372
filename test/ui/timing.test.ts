import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallClock } from '../../src/ui/timing.js';
import { clock, clockMinutes } from '../../src/ui/format.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('the header clock', () => {
  it('ticks on whole minutes, not every second: one frame a minute at rest', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date(2026, 11, 4, 12, 0, 30));
    const c = new WallClock();
    let ticks = 0;
    c.subscribe(() => ticks++);
    c.start();
    vi.advanceTimersByTime(29_000);
    expect(ticks).toBe(0);
    vi.advanceTimersByTime(1_010);
    expect(ticks).toBe(1);
    expect(clockMinutes(c.now())).toBe('12:01');
    vi.advanceTimersByTime(5 * 60_000);
    expect(ticks).toBe(6);
    expect(clockMinutes(c.now())).toBe('12:06');
    c.stop();
    vi.advanceTimersByTime(5 * 60_000);
    expect(ticks).toBe(6);
  });

  it('shows hh:mm; the events keep their seconds', () => {
    const at = new Date(2026, 11, 4, 9, 5, 7).getTime();
    expect(clockMinutes(at)).toBe('09:05');
    expect(clock(at)).toBe('09:05:07');
  });
});
