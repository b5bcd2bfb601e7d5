// The console's open pages: each an event stream (Server-Sent Events). A page that cannot keep up
// is dropped, never buffered; a heartbeat keeps idle streams alive through proxies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.ts';
import type { SnapshotEvent } from './protocol.ts';
import { sendJson } from './http.ts';

export interface Pages {
  /** Sends one event to every page. */
  broadcast(event: string, data: unknown): void;
  /** Opens a page's stream with `snapshot()` as its first event (503 when full). */
  open(req: IncomingMessage, res: ServerResponse, snapshot: () => SnapshotEvent): void;
  size(): number;
  dropped(): number;
  stopHeartbeat(): void;
  /** Ends every open stream. */
  endAll(): void;
}

export function createPages(opts: { log: Logger; sseMax: number; maxPages: number }): Pages {
  const { log, sseMax, maxPages } = opts;
  const pages = new Set<ServerResponse>();
  let pagesDropped = 0;
  const write = (res: ServerResponse, chunk: string): void => {
    if (res.writableLength > sseMax) {
      pagesDropped++;
      log.warn({ buffered: res.writableLength }, 'console page too slow; dropped');
      pages.delete(res);
      res.destroy();
      return;
    }
    res.write(chunk);
  };
  const heartbeat = setInterval(() => {
    for (const res of [...pages]) write(res, ': ping\n\n');
  }, 15_000);
  heartbeat.unref();

  return {
    broadcast(event, data) {
      if (pages.size === 0) return;
      const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const res of [...pages]) write(res, chunk);
    },
    open(req, res, snapshot) {
      if (pages.size >= maxPages) {
        sendJson(res, 503, { error: `at most ${maxPages} console pages at once` });
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.socket?.setNoDelay(true);
      pages.add(res);
      res.write(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
      const bye = (): void => void pages.delete(res);
      req.on('close', bye);
      res.on('error', bye);
    },
    size: () => pages.size,
    dropped: () => pagesDropped,
    stopHeartbeat: () => clearInterval(heartbeat),
    endAll() {
      for (const res of pages) res.end();
      pages.clear();
    },
  };
}
