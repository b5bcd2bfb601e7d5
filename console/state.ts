// The console's bounded picture of the city, built from one MQTT subscription: the simulator's
// catalog and status, every camera's and gateway's retained status, the last N face events, the
// faces on screen now, and the last M minutes of stats per gateway. Each applied message yields a
// delta for the pages; a page that connects gets snapshot() first. Payloads are never trusted:
// anything that does not parse into the expected shape is counted and ignored.
import {
  cameraStatusSchema,
  catalogCameraSchema,
  createCatalogMerge,
  faceEventSchema,
  gatewayStatusSchema,
  parseTopic,
  privacyRecordSchema,
  simulatorStatusSchema,
  statsViewSchema,
} from '../contract/index.ts';
import type {
  CatalogCamera,
  Delta,
  FaceView,
  PrivacyView,
  SimulatorView,
  Snapshot,
  StatsSample,
  StatusView,
} from './protocol.ts';

export interface StateLimits {
  /** Face events kept for a page that connects. */
  events: number;
  /** Minutes of stats kept per gateway. */
  statsMinutes: number;
  /** Samples per gateway whatever the period. */
  statsSamples: number;
  gateways: number;
  cameras: number;
  /** Faces on screen; an active face with no news for this long is forgotten (its gateway died). */
  activeMax: number;
  activeTtlMs: number;
}

export const defaultLimits: StateLimits = {
  events: 200,
  statsMinutes: 10,
  statsSamples: 600,
  gateways: 256,
  cameras: 200_000,
  activeMax: 2000,
  activeTtlMs: 60_000,
};

export interface StateCounters {
  messages: number;
  ignored: number;
}

export interface ConsoleState {
  /** Applies one MQTT message; returns the delta for the pages, or undefined. */
  apply(topic: string, payload: Buffer, now?: number): Delta | undefined;
  snapshot(now?: number): Snapshot;
  catalogUrl(cameraId: string): string | undefined;
  readonly counters: StateCounters;
}

type Json = Record<string, unknown>;

function parseObject(payload: Buffer): Json | undefined {
  if (payload.length === 0) return undefined;
  try {
    const v: unknown = JSON.parse(payload.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The page's status line; a detail over 512 characters is left out. */
function statusView(
  o: Json,
  schema: typeof cameraStatusSchema | typeof gatewayStatusSchema,
): StatusView | undefined {
  const r = schema.safeParse(o);
  if (!r.success) return undefined;
  const { status, gatewayId, ts, detail } = r.data;
  return { status, gatewayId, ts, ...(detail && detail.length <= 512 ? { detail } : {}) };
}

function catalogCamera(v: unknown): CatalogCamera | undefined {
  // A camera whose masks do not parse is left out rather than shown unmasked.
  const r = catalogCameraSchema.safeParse(v);
  if (!r.success) return undefined;
  const c = r.data;
  return {
    id: c.id,
    url: c.url,
    district: c.district ?? '',
    building: c.building ?? 0,
    entrance: c.entrance ?? 0,
    ...(c.masks?.length ? { masks: c.masks } : {}),
  };
}

function privacyView(o: Json): PrivacyView | undefined {
  const r = privacyRecordSchema.safeParse(o);
  if (!r.success) return undefined;
  const { state, since, by, reason, clientId } = r.data;
  return { state, since, by, ...(reason ? { reason } : {}), ...(clientId ? { clientId } : {}) };
}

function faceView(o: Json): FaceView | undefined {
  const r = faceEventSchema.safeParse(o);
  if (!r.success) return undefined;
  const { type, eventId, trackId, cameraId, gatewayId, ts, box, score } = r.data;
  return { type, eventId, trackId, cameraId, gatewayId, ts, box, score };
}

function statsSample(o: Json, t: number): StatsSample | undefined {
  const r = statsViewSchema.safeParse(o);
  if (!r.success) return undefined;
  const { cameras: c, frames: f } = r.data;
  let dropped = 0;
  for (const v of Object.values(f.dropped ?? {})) dropped += num(v);
  return {
    t,
    assigned: c.assigned ?? 0,
    online: c.online ?? 0,
    decoded: f.decoded ?? 0,
    skippedStill: f.skipped?.still ?? 0,
    catchUp: f.catchUp?.decoded ?? 0,
    analysed: f.analysed ?? 0,
    dropped,
    cpu: r.data.cpuPercent ?? 0,
    rss: r.data.rssMb ?? 0,
  };
}

/** Inserts into a Map bounded by insertion order: the oldest key goes when it is full. */
function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

export function createConsoleState(prefix: string, limits: StateLimits = defaultLimits): ConsoleState {
  const p = prefix.replace(/\/+$/, '');
  let catalog: { count: number; cameras: CatalogCamera[] } = { count: 0, cameras: [] };
  let urls = new Map<string, string>();
  const cameras = new Map<string, StatusView>();
  const gateways = new Map<string, { status: StatusView | null; stats: StatsSample[] }>();
  const events: FaceView[] = [];
  const active = new Map<string, { ev: FaceView; at: number }>();
  let simulator: SimulatorView | null = null;
  const privacy = new Map<string, PrivacyView>();
  const shardCatalogs = createCatalogMerge<CatalogCamera>();
  const simStatuses = new Map<string, SimulatorView>();
  const counters: StateCounters = { messages: 0, ignored: 0 };

  const gateway = (id: string): { status: StatusView | null; stats: StatsSample[] } => {
    let g = gateways.get(id);
    if (!g) {
      g = { status: null, stats: [] };
      boundedSet(gateways, id, g, limits.gateways);
    }
    return g;
  };

  const expireActive = (now: number): void => {
    for (const [id, a] of active) if (now - a.at > limits.activeTtlMs) active.delete(id);
  };

  const apply = (topic: string, payload: Buffer, now = Date.now()): Delta | undefined => {
    counters.messages++;
    const t = parseTopic(topic, p);
    switch (t?.kind) {
      case 'catalog':
        return applyCatalog(t.shard, payload);
      case 'simulatorStatus':
        return applySimStatus(t.shard, payload);
      case 'cameraStatus':
        return applyCameraStatus(t.camera, payload);
      case 'faces':
        return applyFace(t.camera, payload, now);
      case 'privacyState':
        return applyPrivacy(t.camera, payload);
      case 'gatewayStatus':
        return applyGatewayStatus(t.gateway, payload);
      case 'gatewayStats':
        return applyStats(t.gateway, payload, now);
      default:
        return ignore();
    }
  };

  function applyCameraStatus(id: string, payload: Buffer): Delta | undefined {
    if (payload.length === 0) {
      cameras.delete(id);
      return { kind: 'camera', id, status: null };
    }
    const o = parseObject(payload);
    const s = o && statusView(o, cameraStatusSchema);
    if (!s) return ignore();
    boundedSet(cameras, id, s, limits.cameras);
    return { kind: 'camera', id, status: s };
  }

  function applyFace(id: string, payload: Buffer, now: number): Delta | undefined {
    const o = parseObject(payload);
    const ev = o && faceView(o);
    if (!ev || ev.cameraId !== id) return ignore();
    events.push(ev);
    if (events.length > limits.events) events.splice(0, events.length - limits.events);
    expireActive(now);
    if (ev.type === 'end') active.delete(ev.eventId);
    else boundedSet(active, ev.eventId, { ev, at: now }, limits.activeMax);
    return { kind: 'face', event: ev };
  }

  function applyPrivacy(id: string, payload: Buffer): Delta | undefined {
    if (payload.length === 0) {
      privacy.delete(id);
      return { kind: 'privacy', id, record: null };
    }
    const o = parseObject(payload);
    const r = o && privacyView(o);
    if (!r) return ignore();
    boundedSet(privacy, id, r, limits.cameras);
    return { kind: 'privacy', id, record: r };
  }

  function applyGatewayStatus(id: string, payload: Buffer): Delta | undefined {
    if (payload.length === 0) {
      const g = gateways.get(id);
      if (g) g.status = null;
      return { kind: 'gateway', id, status: null };
    }
    const o = parseObject(payload);
    const s = o && statusView(o, gatewayStatusSchema);
    if (!s) return ignore();
    gateway(id).status = s;
    return { kind: 'gateway', id, status: s };
  }

  function applyStats(id: string, payload: Buffer, now: number): Delta | undefined {
    const o = parseObject(payload);
    const sample = o && statsSample(o, now);
    if (!sample) return ignore();
    const g = gateway(id);
    g.stats.push(sample);
    const from = now - limits.statsMinutes * 60_000;
    let drop = 0;
    while (drop < g.stats.length && (g.stats[drop]?.t ?? now) < from) drop++;
    drop = Math.max(drop, g.stats.length - limits.statsSamples);
    if (drop > 0) g.stats.splice(0, drop);
    return { kind: 'stats', id, sample };
  }

  // Shards' catalogs and statuses, merged into one city and one simulator line.
  function applyCatalog(shard: string, payload: Buffer): Delta | undefined {
    const o = parseObject(payload);
    if (!o && payload.length > 0) return ignore();
    const list = o && Array.isArray(o['cameras']) ? o['cameras'] : [];
    const cams: CatalogCamera[] = [];
    for (const c of list.slice(0, limits.cameras)) {
      const cam = catalogCamera(c);
      if (cam) cams.push(cam);
    }
    shardCatalogs.set(shard, o ? cams : undefined);
    const merged = shardCatalogs.list().slice(0, limits.cameras);
    catalog = { count: merged.length, cameras: merged };
    urls = new Map(merged.map((c) => [c.id, c.url]));
    return { kind: 'catalog', ...catalog };
  }

  function applySimStatus(shard: string, payload: Buffer): Delta | undefined {
    const o = parseObject(payload);
    if (!o) simStatuses.delete(shard);
    else {
      const r = simulatorStatusSchema.safeParse(o);
      if (!r.success) return ignore();
      const view: SimulatorView = { status: r.data.status };
      for (const k of ['cameras', 'sessions', 'playing'] as const) {
        const n = r.data[k];
        if (n !== undefined) view[k] = n;
      }
      boundedSet(simStatuses, shard, view, limits.gateways);
    }
    simulator = mergeSimulators([...simStatuses.values()]);
    return { kind: 'simulator', status: simulator };
  }

  function ignore(): undefined {
    counters.ignored++;
    return undefined;
  }

  return {
    apply,
    counters,
    catalogUrl: (id) => urls.get(id),
    snapshot(now = Date.now()) {
      expireActive(now);
      return {
        catalog,
        cameras: Object.fromEntries(cameras),
        gateways: Object.fromEntries(
          [...gateways].map(([id, g]) => [id, { status: g.status, stats: [...g.stats] }]),
        ),
        events: [...events],
        active: [...active.values()].map((a) => a.ev),
        simulator,
        privacy: Object.fromEntries(privacy),
      };
    },
  };
}

/** One line for several shards: counts add up; "online" only when every shard is. */
function mergeSimulators(views: SimulatorView[]): SimulatorView | null {
  if (views.length === 0) return null;
  if (views.length === 1) return views[0] ?? null;
  const online = views.filter((v) => v.status === 'online').length;
  const out: SimulatorView = {
    status: online === views.length ? 'online' : `${online} of ${views.length} shards online`,
  };
  for (const k of ['cameras', 'sessions', 'playing'] as const) {
    const present = views.filter((v) => v[k] !== undefined);
    if (present.length > 0) out[k] = present.reduce((a, v) => a + (v[k] ?? 0), 0);
  }
  return out;
}
