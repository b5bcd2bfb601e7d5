// The console's bounded picture of the city, built from one MQTT subscription: the simulator's
// catalog and status, every camera's and gateway's retained status, the last N face events, the
// faces on screen now, and the last M minutes of stats per gateway. Each applied message yields a
// delta for the pages; a page that connects gets snapshot() first. Payloads are never trusted:
// anything that does not parse into the expected shape is counted and ignored (state-views.ts
// parses; state-city.ts merges the simulator shards' catalogs and statuses).
import { cameraStatusSchema, gatewayStatusSchema, parseTopic } from '../contract/index.ts';
import type { Delta, FaceView, PrivacyView, Snapshot, StatsSample, StatusView } from './protocol.ts';
import { boundedSet, faceView, parseObject, privacyView, statsSample, statusView } from './state-views.ts';
import { createCityView } from './state-city.ts';

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

export function createConsoleState(prefix: string, limits: StateLimits = defaultLimits): ConsoleState {
  const p = prefix.replace(/\/+$/, '');
  const cameras = new Map<string, StatusView>();
  const gateways = new Map<string, { status: StatusView | null; stats: StatsSample[] }>();
  const events: FaceView[] = [];
  const active = new Map<string, { ev: FaceView; at: number }>();
  const privacy = new Map<string, PrivacyView>();
  const counters: StateCounters = { messages: 0, ignored: 0 };
  const city = createCityView(limits, ignore);

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
        return city.applyCatalog(t.shard, payload);
      case 'simulatorStatus':
        return city.applySimStatus(t.shard, payload);
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

  function ignore(): undefined {
    counters.ignored++;
    return undefined;
  }

  return {
    apply,
    counters,
    catalogUrl: city.catalogUrl,
    snapshot(now = Date.now()) {
      expireActive(now);
      return {
        catalog: city.catalog(),
        cameras: Object.fromEntries(cameras),
        gateways: Object.fromEntries(
          [...gateways].map(([id, g]) => [id, { status: g.status, stats: [...g.stats] }]),
        ),
        events: [...events],
        active: [...active.values()].map((a) => a.ev),
        simulator: city.simulator(),
        privacy: Object.fromEntries(privacy),
      };
    },
  };
}
