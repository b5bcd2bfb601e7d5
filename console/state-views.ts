// Untrusted MQTT payloads into the small views a console page shows: each parses against the
// contract's schema and keeps only what the page draws, or gives undefined (counted and ignored by
// console/state.ts). Kept apart from the state so the state reads as bookkeeping only.
import {
  type cameraStatusSchema,
  catalogCameraSchema,
  faceEventSchema,
  type gatewayStatusSchema,
  privacyRecordSchema,
  statsViewSchema,
} from '../contract/index.ts';
import type {
  CatalogCamera,
  FaceView,
  PrivacyView,
  SimulatorView,
  StatsSample,
  StatusView,
} from './protocol.ts';

export type Json = Record<string, unknown>;

export function parseObject(payload: Buffer): Json | undefined {
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
export function statusView(
  o: Json,
  schema: typeof cameraStatusSchema | typeof gatewayStatusSchema,
): StatusView | undefined {
  const r = schema.safeParse(o);
  if (!r.success) return undefined;
  const { status, gatewayId, ts, detail } = r.data;
  return { status, gatewayId, ts, ...(detail && detail.length <= 512 ? { detail } : {}) };
}

export function catalogCamera(v: unknown): CatalogCamera | undefined {
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

export function privacyView(o: Json): PrivacyView | undefined {
  const r = privacyRecordSchema.safeParse(o);
  if (!r.success) return undefined;
  const { state, since, by, reason, clientId } = r.data;
  return { state, since, by, ...(reason ? { reason } : {}), ...(clientId ? { clientId } : {}) };
}

export function faceView(o: Json): FaceView | undefined {
  const r = faceEventSchema.safeParse(o);
  if (!r.success) return undefined;
  const { type, eventId, trackId, cameraId, gatewayId, ts, box, score } = r.data;
  return { type, eventId, trackId, cameraId, gatewayId, ts, box, score };
}

export function statsSample(o: Json, t: number): StatsSample | undefined {
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
export function boundedSet<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

/** One line for several shards: counts add up; "online" only when every shard is. */
export function mergeSimulators(views: SimulatorView[]): SimulatorView | null {
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
