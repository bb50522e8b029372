/**
 * Bounded reading of what a probed service or a metrics source answers. A health endpoint or a
 * Prometheus server that answers with hundreds of MiB (a bug, a hostile proxy, a query that matches
 * every series) must not take the monitor's memory with it: the body is read up to a cap, reading stops
 * as soon as what is needed was found, and an answer beyond the cap is "response larger than N", an
 * inconclusive measurement. Error texts taken from an answer are clipped to one short line too.
 */

/** What a health check reads of a body it matches against `body:`. */
export const HEALTH_BODY_LIMIT = 1024 * 1024;

/** How long an error message from a source may be (characters), once clipped. */
export const MESSAGE_LIMIT = 300;

/** "1 MiB", "4 MiB", "512 KiB": the caps as an operator reads them. */
export function formatLimit(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** The inconclusive reason for an answer beyond the cap. */
export function tooLargeMessage(limit: number): string {
  return `response larger than ${formatLimit(limit)}`;
}

/** One line of at most `max` characters (an ellipsis marks what was cut). */
export function clipMessage(text: string, max = MESSAGE_LIMIT): string {
  const line = text.replace(/\s*[\r\n]+\s*/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export interface BoundedBody {
  /** The text read (all of it when `complete`, else what was read before stopping). */
  text: string;
  /** The whole body was read. */
  complete: boolean;
  /** Reading stopped because the body is larger than the cap. */
  tooLarge: boolean;
}

/**
 * Read a fetch Response's body up to `limit` bytes. `enough(text)` (checked after each chunk) stops
 * reading early when what is needed is already there. The rest of the body is never read: the stream is
 * cancelled, which closes the connection.
 */
export async function readBounded(res: Response, limit: number, enough?: (text: string) => boolean): Promise<BoundedBody> {
  if (!res.body) return { text: '', complete: true, tooLarge: false };
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + decoder.decode(), complete: true, tooLarge: false };
      const room = limit - bytes;
      const chunk = value.byteLength > room ? value.subarray(0, room) : value;
      bytes += chunk.byteLength;
      text += decoder.decode(chunk, { stream: true });
      if (value.byteLength > room) return { text, complete: false, tooLarge: true };
      if (enough?.(text)) return { text, complete: false, tooLarge: false };
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * Whether a match in the first part of a text is a match in the whole text: true unless the pattern
 * looks at what follows (an end anchor, a word boundary, a negative lookahead), where more text can
 * undo a match.
 */
export function prefixMatchHolds(pattern: string): boolean {
  return !/\$|\\[bB]|\(\?!/.test(pattern);
}
