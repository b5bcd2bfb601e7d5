// The web console: one node:http server that serves the page (console/public, jsmpg.js from
// node_modules), streams the city's state to it over Server-Sent Events from one MQTT
// subscription, takes the simulator's camera count from a POST, and upgrades /live/<camera> to
// the WebSocket of a live view. Bounded everywhere: the state (console/state.ts), the pages (a page
// whose stream backs up is dropped), the live views (maxLiveViews ffmpeg at once).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import { redactUrl } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { connectMqtt, mqttOptionsFrom } from '../shared/mqtt.ts';
import { assemble, type Parts } from '../shared/lifecycle.ts';
import { FACEGATE_ERR_CONFIG } from '../shared/errors.ts';
import { listen } from '../shared/listen.ts';
import { badId, createTopics, type ControlMessage, type LiveViewAudit } from '../contract/index.ts';
import type { Delta, LinkEvent, PageInfo, SnapshotEvent } from './protocol.ts';
import { createConsoleState, defaultLimits, type StateLimits } from './state.ts';
import { createLiveViews, type LiveStats } from './live.ts';
import { createConsoleAuth, isLoopback } from './auth.ts';
import type { Polygon } from '../config/privacy.ts';

export interface ConsoleDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  /** Broker URL when cfg.mqtt.url is empty (the one `facegate up` embeds). */
  mqttUrl?: string;
  /** Listen port (0: any free port); default console.port, else 8081. */
  port?: number;
  /** Bind address; default console.host, else http.host. */
  host?: string;
  /** Live views at once; default console.maxLiveViews, else 4. */
  maxLiveViews?: number;
  /** How long a live view outlives its last viewer (ms). */
  liveGraceMs?: number;
  /** A page whose event stream has more than this unsent is dropped. */
  sseMaxBufferedBytes?: number;
  maxPages?: number;
  limits?: Partial<StateLimits>;
}

export interface ConsoleStats {
  pages: number;
  pagesDropped: number;
  mqtt: { connected: boolean; messages: number; ignored: number };
  live: LiveStats;
}

export interface ConsoleServer {
  port: number;
  url: string;
  stats(): ConsoleStats;
  close(): Promise<void>;
}

const publicDir = fileURLToPath(new URL('./public/', import.meta.url));
const jsmpegFile = createRequire(import.meta.url).resolve('jsmpeg/jsmpg.js');

const files: Record<string, { file: string; type: string }> = {
  '/': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/index.html': { file: join(publicDir, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: join(publicDir, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/charts.js': { file: join(publicDir, 'charts.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: join(publicDir, 'style.css'), type: 'text/css; charset=utf-8' },
  '/vendor/jsmpg.js': { file: jsmpegFile, type: 'text/javascript; charset=utf-8' },
  '/login': { file: join(publicDir, 'login.html'), type: 'text/html; charset=utf-8' },
};
/** What a visitor without a session may fetch. */
const publicPaths = new Set(['/login', '/style.css']);

function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

/** A request from another site's page (CSRF, or a WebSocket opened by any page) is refused. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true; // not a browser page (curl, tests)
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function withCredentials(url: string, username: string, password: string): string {
  if (!username) return url;
  try {
    const u = new URL(url);
    if (u.username) return url;
    u.username = encodeURIComponent(username);
    u.password = encodeURIComponent(password);
    return u.toString();
  } catch {
    return url;
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the console; a failure halfway (port in use) closes what was started, in reverse. */
export async function createConsole(cfg: Config, deps: ConsoleDeps): Promise<ConsoleServer> {
  const log = deps.log.child({ component: 'console' });
  return assemble((parts) => build(cfg, deps, log, parts), { deadlineMs: 5000, log });
}

async function build(cfg: Config, deps: ConsoleDeps, log: Logger, parts: Parts): Promise<ConsoleServer> {
  const host = deps.host ?? (cfg.console.host || cfg.http.host);
  const wantPort = deps.port ?? cfg.console.port;
  const maxLiveViews = deps.maxLiveViews ?? cfg.console.maxLiveViews;
  const sseMax = deps.sseMaxBufferedBytes ?? 4 * 1024 * 1024;
  const maxPages = deps.maxPages ?? 64;
  const topics = createTopics(cfg.mqtt.prefix);
  const prefix = topics.prefix;
  const mqttUrl = cfg.mqtt.url || deps.mqttUrl;
  if (!mqttUrl) throw FACEGATE_ERR_CONFIG('console: no MQTT broker: set mqtt.url');
  const auth = createConsoleAuth(cfg.console.auth, { sessionS: cfg.console.sessionS });
  // Live video of entrances is for the people it is meant for: off loopback, ask who they are.
  if (!auth.enabled && !isLoopback(host) && !cfg.console.allowAnonymous)
    throw FACEGATE_ERR_CONFIG(
      `console: refusing to serve ${host} without a login: set console.auth (user and passwordHash, or token) or console.allowAnonymous=true`,
    );
  const configMasks = new Map<string, Polygon[]>();
  for (const m of cfg.privacy.masks)
    configMasks.set(m.camera, [...(configMasks.get(m.camera) ?? []), ...m.polygons]);
  const masksOf = (id: string): Polygon[] => [
    ...(configMasks.get(id) ?? []),
    ...(state.snapshot().catalog.cameras.find((c) => c.id === id)?.masks ?? []),
  ];

  const state = createConsoleState(prefix, { ...defaultLimits, ...deps.limits });
  const live = createLiveViews({
    ffmpeg: deps.ffmpeg,
    log,
    maxViews: maxLiveViews,
    ...(deps.liveGraceMs !== undefined ? { graceMs: deps.liveGraceMs } : {}),
    resolveUrl: (id) => {
      const url = state.catalogUrl(id);
      return url && withCredentials(url, cfg.gateway.rtspUsername, cfg.gateway.rtspPassword);
    },
    resolveMasks: masksOf,
  });
  parts.add('live views', live, (l) => l.close());

  // The pages: each an open event stream. One that cannot keep up is dropped, never buffered.
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
  const broadcast = (event: string, data: unknown): void => {
    if (pages.size === 0) return;
    const chunk = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const res of [...pages]) write(res, chunk);
  };
  const heartbeat = setInterval(() => {
    for (const res of [...pages]) write(res, ': ping\n\n');
  }, 15_000);
  heartbeat.unref();
  parts.defer('heartbeat', () => clearInterval(heartbeat));

  const opts = mqttOptionsFrom(
    cfg.mqtt,
    mqttUrl,
    cfg.mqtt.clientId
      ? `${cfg.mqtt.clientId}-console`
      : `facegate-console-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
  const link = connectMqtt(opts, log.child({ component: 'console-mqtt' }));
  parts.add('mqtt', link, (l) => l.close({ force: true, timeoutMs: 500 }));
  link.onMessage((topic, payload) => {
    const d: Delta | undefined = state.apply(topic, payload);
    if (d) broadcast(d.kind, d);
  });
  link.on('connect', () => broadcast('link', { connected: true } satisfies LinkEvent));
  link.on('offline', () => broadcast('link', { connected: false } satisfies LinkEvent));
  const filters = [
    ...topics.simulatorFilters,
    topics.allCameraStatus,
    topics.allFaces,
    topics.allGatewayStatus,
    topics.allGatewayStats,
    topics.allPrivacyState,
  ];
  // QoS 0: a viewer needs no acknowledgements; sent again on every reconnect.
  void link
    .subscribe(filters, 0)
    .catch((err: Error) => log.warn({ err: err.message }, 'console subscription refused'));

  const openPage = (req: IncomingMessage, res: ServerResponse): void => {
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
    const info: PageInfo = {
      control: cfg.simulator.control,
      maxLiveViews,
      connected: link.connected,
      prefix,
      who: auth.who(req),
      auth: auth.enabled,
      masks: Object.fromEntries(configMasks),
    };
    const snapshot: SnapshotEvent = { ...state.snapshot(), info };
    res.write(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    const bye = (): void => void pages.delete(res);
    req.on('close', bye);
    res.on('error', bye);
  };

  const setCameras = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sameOrigin(req)) return sendJson(res, 403, { error: 'cross-origin request refused' });
    // A JSON content type cannot come from a plain HTML form, so no other site can post this.
    if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
      return sendJson(res, 415, { error: 'send application/json' });
    if (!cfg.simulator.control)
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
      await link.publish(topics.simulatorSet, JSON.stringify({ cameras: n } satisfies ControlMessage), {
        qos: 1,
      });
    } catch (err) {
      return sendJson(res, 502, { error: `publish failed: ${(err as Error).message}` });
    }
    log.info({ cameras: n }, 'asked the simulator for a camera count');
    sendJson(res, 202, { ok: true, cameras: n });
  };

  const stats = (): ConsoleStats => ({
    pages: pages.size,
    pagesDropped,
    mqtt: { connected: link.connected, ...state.counters },
    live: live.stats(),
  });

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

  const server = createServer((req, res) => {
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
    if (req.method === 'GET' && path === '/events') return openPage(req, res);
    if (req.method === 'POST' && path === '/api/simulator') return void setCameras(req, res).catch(fail);
    if (req.method === 'GET' && path === '/api/state') return sendJson(res, 200, state.snapshot());
    if (req.method === 'GET' && path === '/api/stats') return sendJson(res, 200, stats());
    const f = files[path];
    if ((req.method === 'GET' || req.method === 'HEAD') && f) {
      readFile(f.file).then((file) => {
        // jsmpg.js ends with `module.exports = jsmpeg` (its npm packaging): give it a module to write to.
        const body =
          path === '/vendor/jsmpg.js'
            ? Buffer.concat([
                Buffer.from('(function (module) {\n'),
                file,
                Buffer.from('\n})({ exports: {} });\n'),
              ])
            : file;
        res.writeHead(200, {
          'content-type': f.type,
          'cache-control': 'no-cache',
          'content-length': body.length,
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      }, fail);
      return;
    }
    sendJson(res, 404, { error: 'not found' });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const m = /^\/live\/([^/?]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const id = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    if (id === undefined || badId(id) || !sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const who = auth.who(req);
    if (who === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Who watched which camera, from when until when: one record as it starts, one as it stops.
      const from = new Date().toISOString();
      const address = req.socket.remoteAddress ?? '?';
      const audit = (until: string | null): void => {
        const rec: LiveViewAudit = { v: 1, who, camera: id, from, until, address };
        log.info(rec, until ? 'live view closed' : 'live view opened');
        link
          .publish(topics.auditLiveView, JSON.stringify(rec), { qos: 1 })
          .catch((err: Error) =>
            log.warn({ err: err.message, camera: id }, 'live view audit record not published'),
          );
      };
      audit(null);
      ws.once('close', () => audit(new Date().toISOString()));
      live.attach(ws, id);
    });
  });

  // A port in use throws a named error; assemble() closes what was started.
  const port = await listen(server, { host, port: wantPort, what: 'console', setting: 'console.port' });
  const url = `http://${hostForUrl(host)}:${port}/`;
  log.info({ url, mqtt: redactUrl(mqttUrl), maxLiveViews }, 'console ready');

  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    stats,
    close() {
      closing ??= (async () => {
        clearInterval(heartbeat);
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const res of pages) res.end();
        pages.clear();
        await live.close();
        for (const ws of wss.clients) ws.terminate();
        server.closeAllConnections();
        await stopped;
        await link.close({ force: true, timeoutMs: 1000 });
      })();
      return closing;
    },
  };
}
