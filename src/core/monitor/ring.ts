/**
 * A bounded ring buffer: fixed capacity chosen up front, oldest entries overwritten. The monitor keeps
 * its samples here, so memory stays flat however long it runs (days at a 60 s interval, or 100,000
 * simulated samples in the bench).
 */
export class RingBuffer<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  /** Index the next push writes to. */
  private head = 0;
  private count = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  push(item: T): void {
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest entry, or undefined when empty. */
  last(): T | undefined {
    if (this.count === 0) return undefined;
    return this.items[(this.head - 1 + this.capacity) % this.capacity];
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out: T[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push(this.items[(start + i) % this.capacity] as T);
    return out;
  }

  /** Oldest first, only entries matching `keep` (e.g. the samples inside a window). */
  filter(keep: (item: T) => boolean): T[] {
    const out: T[] = [];
    const start = (this.head - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) {
      const item = this.items[(start + i) % this.capacity] as T;
      if (keep(item)) out.push(item);
    }
    return out;
  }
}

/**
 * Capacity for a sampling ring: the longest window the policy looks at (triggers and the baseline
 * window), divided by the interval, plus a margin for timer jitter.
 */
export function ringCapacity(longestWindowMs: number, intervalMs: number, margin = 1.25): number {
  if (!(intervalMs > 0)) throw new RangeError('sampling interval must be positive');
  return Math.max(16, Math.ceil((longestWindowMs / intervalMs) * margin) + 8);
}
