// The gateway's small HTTP server: /metrics (Prometheus text) and /healthz. Bound to 127.0.0.1 by
// default; the address is the operator's choice (http.host).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.ts';
import { listen } from '../shared/listen.ts';

export interface Health {
  ok: boolean;
  reason?: string;
}

export interface HttpDeps {
  log: Logger;
  /** A prom-client Registry (kept structural: metrics.ts is the one file importing prom-client). */
  registry: { metrics(): Promise<string>; readonly contentType: string };
  health: () => Health;
  /** Other routes (the web console); return false when the path is not theirs. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface HttpServer {
  port: number;
  close(timeoutMs?: number): Promise<void>;
}

const send = (res: ServerResponse, code: number, type: string, body: string): void => {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
};

export async function createHttpServer(
  opts: { host: string; port: number },
  deps: HttpDeps,
): Promise<HttpServer> {
  const { log } = deps;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' || path === '/healthz') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(res, 405, 'text/plain', 'method not allowed\n');
      if (path === '/healthz') {
        let h: Health;
        try {
          h = deps.health();
        } catch (err) {
          h = { ok: false, reason: `health check failed: ${(err as Error).message}` };
        }
        return send(
          res,
          h.ok ? 200 : 503,
          'application/json',
          JSON.stringify(h.ok ? { status: 'ok' } : { status: 'unhealthy', reason: h.reason ?? 'unknown' }) +
            '\n',
        );
      }
      deps.registry.metrics().then(
        (body) => send(res, 200, deps.registry.contentType, body),
        (err: Error) => {
          log.warn({ err: err.message }, 'metrics scrape failed');
          send(res, 500, 'text/plain', 'metrics failed\n');
        },
      );
      return;
    }
    if (deps.extra?.(req, res)) return;
    send(res, 404, 'text/plain', 'not found\n');
  });
  server.keepAliveTimeout = 5000;
  const port = await listen(server, { host: opts.host, port: opts.port, what: 'http', setting: 'http.port' });
  server.on('error', (err) => log.warn({ err: err.message }, 'http server error'));
  log.info({ host: opts.host, port }, 'http listening (/metrics, /healthz)');
  return {
    port,
    close(timeoutMs = 2000) {
      return new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, timeoutMs);
        t.unref();
        server.close(() => {
          clearTimeout(t);
          resolve();
        });
        server.closeIdleConnections(); // keep-alive sockets would hold close() open
      });
    },
  };
}
