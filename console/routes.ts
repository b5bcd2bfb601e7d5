// The console's HTTP routes: login/logout, the session gate, the event stream, the simulator's
// camera count, state and stats, then the static files. Takes the few things it needs from the
// server as a narrow interface so it can be read (and changed) without the server's wiring.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.ts';
import type { MqttLink } from '../shared/mqtt.ts';
import type { ControlMessage } from '../contract/index.ts';
import type { ConsoleAuth } from './auth.ts';
import type { SnapshotEvent } from './protocol.ts';
import { readBody, sameOrigin, sendJson } from './http.ts';
import { publicPaths, serveStatic } from './static.ts';

export interface RouteDeps {
  log: Logger;
  auth: Pick<ConsoleAuth, 'enabled' | 'who' | 'login' | 'logout'>;
  link: Pick<MqttLink, 'connected' | 'publish'>;
  /** simulator.control: whether a page may set the camera count. */
  control: boolean;
  /** The topic the simulator takes its camera count from. */
  simulatorSet: string;
  /** Opens a page's event stream; `snapshot` is its first event. */
  openPage(req: IncomingMessage, res: ServerResponse, snapshot: () => SnapshotEvent): void;
  /** The snapshot a page `req` opens with. */
  snapshotFor(req: IncomingMessage): SnapshotEvent;
  state(): unknown;
  stats(): unknown;
}

export function createRoutes(d: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { log, auth, link } = d;

  const setCameras = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    // A JSON content type cannot come from a plain HTML form, so no other site can post this.
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: 'send application/json' });
    if (!d.control)
      return sendJson(res, 403, { error: 'simulator control is off (simulator.control=false)' });
    let n: unknown;
    try {
      n = (JSON.parse(await readBody(req, 1024)) as { cameras?: unknown }).cameras;
    } catch {
      return sendJson(res, 400, { error: 'body must be {"cameras":N}' });
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100_000)
      return sendJson(res, 400, { error: 'cameras must be an integer from 1 to 100000' });
    if (!link.connected) return sendJson(res, 503, { error: 'not connected to the broker' });
    try {
      await link.publish(d.simulatorSet, JSON.stringify({ cameras: n } satisfies ControlMessage), {
        qos: 1,
      });
    } catch (err) {
      return sendJson(res, 502, { error: `publish failed: ${(err as Error).message}` });
    }
    log.info({ cameras: n }, 'asked the simulator for a camera count');
    sendJson(res, 202, { ok: true, cameras: n });
  };

  const login = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: 'send application/json' });
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req, 4096));
      if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: 'body must be {"user","password"} or {"token"}' });
    }
    const address = req.socket.remoteAddress ?? '?';
    const r = auth.login(address, body);
    if (!r.ok) {
      log.warn({ address, status: r.status }, 'console login refused');
      return sendJson(res, r.status, { error: r.error });
    }
    log.info({ address, who: r.who }, 'console login');
    res.setHeader('set-cookie', r.cookie);
    sendJson(res, 200, { ok: true, who: r.who });
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const fail = (err: unknown): void => {
      log.warn({ err: (err as Error).message, path }, 'console request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    };
    if (req.method === 'POST' && path === '/api/login') return void login(req, res).catch(fail);
    if (req.method === 'POST' && path === '/api/logout') {
      if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
      res.setHeader('set-cookie', auth.logout(req));
      return sendJson(res, 200, { ok: true });
    }
    if (auth.enabled && !publicPaths.has(path) && auth.who(req) === undefined) {
      if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
        res.writeHead(303, { location: '/login', 'cache-control': 'no-store' });
        return void res.end();
      }
      return sendJson(res, 401, { error: 'log in first' });
    }
    if (req.method === 'GET' && path === '/events') return d.openPage(req, res, () => d.snapshotFor(req));
    if (req.method === 'POST' && path === '/api/simulator') return void setCameras(req, res).catch(fail);
    if (req.method === 'GET' && path === '/api/state') return sendJson(res, 200, d.state());
    if (req.method === 'GET' && path === '/api/stats') return sendJson(res, 200, d.stats());
    if (serveStatic(req, res, path, fail)) return;
    sendJson(res, 404, { error: 'not found' });
  };
}
