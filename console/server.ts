// The web console: one node:http server that serves the page (console/public, jsmpg.js from
// node_modules), streams the city's state to it over Server-Sent Events from one MQTT
// subscription, takes the simulator's camera count from a POST, and upgrades /live/<camera> to
// the WebSocket of a live view. Bounded everywhere: the state (console/state.ts), the pages (a page
// whose stream backs up is dropped), the live views (maxLiveViews ffmpeg at once). This file wires
// the parts in startup order; the routes (routes.ts), pages (pages.ts), live-view upgrade
// (live-upgrade.ts) and static files (static.ts) live next to it.
import { createServer, type IncomingMessage } from 'node:http';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import { redactUrl } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { connectMqtt, mqttOptionsFrom } from '../shared/mqtt.ts';
import { assemble, type Parts } from '../shared/lifecycle.ts';
import { FACEGATE_ERR_CONFIG } from '../shared/errors.ts';
import { listen } from '../shared/listen.ts';
import { createTopics } from '../contract/index.ts';
import type { Delta, LinkEvent, PageInfo, SnapshotEvent } from './protocol.ts';
import { createConsoleState, defaultLimits, type StateLimits } from './state.ts';
import { createLiveViews, type LiveStats } from './live.ts';
import { createConsoleAuth, isLoopback } from './auth.ts';
import type { Polygon } from '../config/privacy.ts';
import { hostForUrl, withCredentials } from './http.ts';
import { createPages } from './pages.ts';
import { createRoutes } from './routes.ts';
import { serveLiveViews } from './live-upgrade.ts';

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
  const pages = createPages({ log, sseMax, maxPages });
  parts.defer('heartbeat', () => pages.stopHeartbeat());

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
    if (d) pages.broadcast(d.kind, d);
  });
  link.on('connect', () => pages.broadcast('link', { connected: true } satisfies LinkEvent));
  link.on('offline', () => pages.broadcast('link', { connected: false } satisfies LinkEvent));
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

  const snapshotFor = (req: IncomingMessage): SnapshotEvent => {
    const info: PageInfo = {
      control: cfg.simulator.control,
      maxLiveViews,
      connected: link.connected,
      prefix,
      who: auth.who(req),
      auth: auth.enabled,
      masks: Object.fromEntries(configMasks),
    };
    return { ...state.snapshot(), info };
  };

  const stats = (): ConsoleStats => ({
    pages: pages.size(),
    pagesDropped: pages.dropped(),
    mqtt: { connected: link.connected, ...state.counters },
    live: live.stats(),
  });

  const server = createServer(
    createRoutes({
      log,
      auth,
      link,
      control: cfg.simulator.control,
      simulatorSet: topics.simulatorSet,
      openPage: pages.open,
      snapshotFor,
      state: () => state.snapshot(),
      stats,
    }),
  );
  const wss = serveLiveViews(server, { log, auth, live, link, auditTopic: topics.auditLiveView });

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
        pages.stopHeartbeat();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        pages.endAll();
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
