// The console's bounded picture of the city, built from one MQTT subscription: the simulator's
// catalog and status, every camera's and gateway's retained status, the last N face events, the
// faces on screen now, and the last M minutes of stats per gateway. Each applied message yields a
// delta for the pages; a page that connects gets snapshot() first. Payloads are never trusted:
// anything that does not parse into the expected shape is counted and ignored.
import { badId } from '../gateway/publish/topics.ts';
import { cameraMasksSchema } from '../config/privacy.ts';
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
import { createCatalogMerge, parseSimulatorTopic } from '../shared/simulator-topics.ts';

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

const str = (v: unknown, max = 256): string | undefined =>
  typeof v === 'string' && v.length <= max ? v : undefined;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function parseStatus(o: Json): StatusView | undefined {
  const status = str(o['status'], 32);
  if (!status) return undefined;
  const view: StatusView = { status, gatewayId: str(o['gatewayId'], 128) ?? '', ts: str(o['ts'], 64) ?? '' };
  const detail = str(o['detail'], 512);
  if (detail) view.detail = detail;
  return view;
}

function parseCatalogCamera(v: unknown): CatalogCamera | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Json;
  const id = str(o['id'], 128);
  const url = str(o['url'], 2048);
  if (!id || badId(id) || !url || !/^rtsps?:\/\//.test(url)) return undefined;
  // A camera whose masks do not parse is left out rather than shown unmasked.
  const masks = o['masks'] === undefined ? undefined : cameraMasksSchema.safeParse(o['masks']);
  if (masks && !masks.success) return undefined;
  return {
    id,
    url,
    district: str(o['district'], 64) ?? '',
    building: num(o['building']) ?? 0,
    entrance: num(o['entrance']) ?? 0,
    ...(masks?.data.length ? { masks: masks.data } : {}),
  };
}

function parsePrivacy(o: Json): PrivacyView | undefined {
  const state = o['state'];
  const since = str(o['since'], 64);
  const by = str(o['by'], 16);
  if ((state !== 'suspended' && state !== 'active') || !since || !by) return undefined;
  const view: PrivacyView = { state, since, by };
  const reason = str(o['reason'], 200);
  const clientId = str(o['clientId'], 128);
  if (reason) view.reason = reason;
  if (clientId) view.clientId = clientId;
  return view;
}

function parseFace(o: Json): FaceView | undefined {
  const type = o['type'];
  if (type !== 'start' && type !== 'update' && type !== 'end') return undefined;
  const eventId = str(o['eventId'], 128);
  const cameraId = str(o['cameraId'], 128);
  const box = o['box'];
  if (!eventId || !cameraId || !Array.isArray(box) || box.length !== 4) return undefined;
  const b = box.map(num);
  const [x, y, w, h] = b;
  if (x === undefined || y === undefined || w === undefined || h === undefined) return undefined;
  return {
    type,
    eventId,
    trackId: num(o['trackId']) ?? 0,
    cameraId,
    gatewayId: str(o['gatewayId'], 128) ?? '',
    ts: str(o['ts'], 64) ?? '',
    box: [x, y, w, h],
    score: num(o['score']) ?? 0,
  };
}

function parseStats(o: Json, t: number): StatsSample | undefined {
  const cams = o['cameras'];
  const frames = o['frames'];
  if (typeof cams !== 'object' || cams === null || typeof frames !== 'object' || frames === null)
    return undefined;
  const c = cams as Json;
  const f = frames as Json;
  let dropped = 0;
  const d = f['dropped'];
  if (typeof d === 'object' && d !== null) for (const v of Object.values(d as Json)) dropped += num(v) ?? 0;
  return {
    t,
    assigned: num(c['assigned']) ?? 0,
    online: num(c['online']) ?? 0,
    decoded: num(f['decoded']) ?? 0,
    skippedStill: num((f['skipped'] as Json | undefined)?.['still']) ?? 0,
    catchUp: num((f['catchUp'] as Json | undefined)?.['decoded']) ?? 0,
    analysed: num(f['analysed']) ?? 0,
    dropped,
    cpu: num(o['cpuPercent']) ?? 0,
    rss: num(o['rssMb']) ?? 0,
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
    if (!topic.startsWith(p + '/')) return ignore();
    const levels = topic.slice(p.length + 1).split('/');
    const [kind, id, what] = levels;
    const sim = parseSimulatorTopic(topic, p);
    if (sim)
      return sim.kind === 'catalog' ? applyCatalog(sim.shard, payload) : applySimStatus(sim.shard, payload);
    if (levels.length !== 3 || id === undefined || badId(id)) return ignore();
    if (kind === 'cameras' && what === 'status') {
      if (payload.length === 0) {
        cameras.delete(id);
        return { kind: 'camera', id, status: null };
      }
      const o = parseObject(payload);
      const s = o && parseStatus(o);
      if (!s) return ignore();
      boundedSet(cameras, id, s, limits.cameras);
      return { kind: 'camera', id, status: s };
    }
    if (kind === 'cameras' && what === 'faces') {
      const o = parseObject(payload);
      const ev = o && parseFace(o);
      if (!ev || ev.cameraId !== id) return ignore();
      events.push(ev);
      if (events.length > limits.events) events.splice(0, events.length - limits.events);
      expireActive(now);
      if (ev.type === 'end') active.delete(ev.eventId);
      else boundedSet(active, ev.eventId, { ev, at: now }, limits.activeMax);
      return { kind: 'face', event: ev };
    }
    if (kind === 'privacy' && what === 'state') {
      if (payload.length === 0) {
        privacy.delete(id);
        return { kind: 'privacy', id, record: null };
      }
      const o = parseObject(payload);
      const r = o && parsePrivacy(o);
      if (!r) return ignore();
      boundedSet(privacy, id, r, limits.cameras);
      return { kind: 'privacy', id, record: r };
    }
    if (kind === 'gateways' && what === 'status') {
      if (payload.length === 0) {
        const g = gateways.get(id);
        if (g) g.status = null;
        return { kind: 'gateway', id, status: null };
      }
      const o = parseObject(payload);
      const s = o && parseStatus(o);
      if (!s) return ignore();
      gateway(id).status = s;
      return { kind: 'gateway', id, status: s };
    }
    if (kind === 'gateways' && what === 'stats') {
      const o = parseObject(payload);
      const sample = o && parseStats(o, now);
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
    return ignore();
  };

  // Shards' catalogs and statuses, merged into one city and one simulator line.
  function applyCatalog(shard: string, payload: Buffer): Delta | undefined {
    const o = parseObject(payload);
    if (!o && payload.length > 0) return ignore();
    const list = o && Array.isArray(o['cameras']) ? o['cameras'] : [];
    const cams: CatalogCamera[] = [];
    for (const c of list.slice(0, limits.cameras)) {
      const cam = parseCatalogCamera(c);
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
      const status = str(o['status'], 32);
      if (!status) return ignore();
      const view: SimulatorView = { status };
      for (const k of ['cameras', 'sessions', 'playing'] as const) {
        const n = num(o[k]);
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
