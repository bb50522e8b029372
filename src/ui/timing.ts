/**
 * The controller's timing helpers. A frame queue hands queued items over together at most once per
 * frame: a burst (one monitor check emits a sample, trigger changes and its state across several turns)
 * becomes one state update and one render. The wall clock ticks the header's clock on whole minutes
 * (it shows hh:mm), apart from the app state: a tick a second would be a second frame a second at rest,
 * since ink draws the whole screen on any change.
 */
export class FrameQueue<T> {
  private items: T[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly frameMs: number,
    private readonly flush: (items: T[]) => void,
  ) {}

  push(item: T): void {
    this.items.push(item);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const items = this.items;
      this.items = [];
      if (items.length > 0) this.flush(items);
    }, this.frameMs);
    this.timer.unref();
  }

  /** Drop what is queued; nothing is handed over any more until the next push. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.items = [];
  }
}

/** The wall clock for the header, apart from the app state. */
export interface ClockSource {
  subscribe(listener: () => void): () => void;
  now(): number;
}

export class WallClock implements ClockSource {
  private current = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly listeners = new Set<() => void>();

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  now = (): number => this.current;

  /** Tick on whole minutes until stop(). */
  start(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.current = Date.now();
      for (const l of this.listeners) l();
      this.start();
    }, 60_000 - (Date.now() % 60_000) + 5);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
