/**
 * A hostile HTTP server for the bounded-reading tests: every answer is `size` bytes, generated as it is
 * sent (never held in memory), with backpressure, and generation stops when the client hangs up. It
 * counts what it actually sent per path, so a test can see that a client stopped reading early.
 *
 *   /health             "ok" then filler: a body pattern matches in the first bytes
 *   /noise              filler only: a body pattern never matches
 *   /api/v1/query       a Prometheus vector answer with endless series
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HugeServer {
  base: string;
  /** Bytes sent so far, per path (the last request to it). */
  sent: Map<string, number>;
  /** Requests whose answer was sent completely, per path. */
  completed: Map<string, number>;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

function chunks(path: string): { head: string; filler: Buffer } {
  if (path === '/api/v1/query') {
    const series = '{"metric":{"instance":"app-1","job":"x"},"value":[1700000000.0,"1"]},';
    return { head: '{"status":"success","data":{"resultType":"vector","result":[', filler: Buffer.from(series.repeat(Math.ceil(CHUNK / series.length))) };
  }
  return { head: path === '/health' ? 'ok\n' : '', filler: Buffer.alloc(CHUNK, 'x') };
}

export async function startHugeServer(size: number): Promise<HugeServer> {
  const sent = new Map<string, number>();
  const completed = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const { head, filler } = chunks(path);
    res.writeHead(200, { 'content-type': path.startsWith('/api') ? 'application/json' : 'text/plain' });
    let n = 0;
    let gone = false;
    res.on('close', () => (gone = true));
    const pump = (): void => {
      if (n === 0 && head) {
        n += Buffer.byteLength(head);
        res.write(head);
      }
      while (!gone && n < size) {
        const piece = filler.subarray(0, Math.min(filler.length, size - n));
        n += piece.length;
        sent.set(path, n);
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!gone) {
        completed.set(path, (completed.get(path) ?? 0) + 1);
        res.end();
      }
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    sent,
    completed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
