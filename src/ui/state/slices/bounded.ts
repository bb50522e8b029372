/** A bounded list: the newest `limit` items, oldest first (the series, the events, a step's output). */
export function appendBounded<T>(list: readonly T[], item: T, limit: number): T[] {
  const next = list.length >= limit ? list.slice(list.length - limit + 1) : list.slice();
  next.push(item);
  return next;
}
