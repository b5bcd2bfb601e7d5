// What `facegate watch` subscribes to and how it prints each message: pure functions, so the
// formats are tested without a broker. One message is always one line. Topics and payload
// schemas come from the contract; payloads are parsed with the schemas made partial, since a
// viewer must show a message of another version, or a half-formed one, as well as it can: what
// does not parse at all prints as topic and text.
import {
  badId,
  cameraStatusSchema,
  createTopics,
  faceEventSchema,
  gatewayStatusSchema,
  parseTopic,
  type TopicRef,
  simulatorStatusSchema,
  statsViewSchema,
} from '../contract/index.ts';

const faceView = faceEventSchema.partial().required({ type: true, box: true });
const cameraStatusView = cameraStatusSchema.partial().required({ status: true });
const gatewayStatusView = gatewayStatusSchema.partial().required({ status: true });
const simulatorStatusView = simulatorStatusSchema.partial().required({ status: true });

/** The topics watch prints a line for (contract's TopicRef), the rest as `other`. */
export type TopicKind =
  | Extract<
      TopicRef,
      { kind: 'faces' | 'cameraStatus' | 'gatewayStatus' | 'gatewayStats' | 'catalog' | 'simulatorStatus' }
    >
  | { kind: 'other' };

/** Why a string is not a valid MQTT topic filter (MQTT 5 4.7.1), or undefined when it is. */
export function badFilter(filter: string): string | undefined {
  if (filter === '') return 'is empty';
  if (filter.includes('\u0000')) return 'contains NUL';
  const levels = filter.split('/');
  for (const [i, l] of levels.entries()) {
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1))
      return '# must be a whole level and the last one';
    if (l.includes('+') && l !== '+') return '+ must be a whole level';
  }
  return undefined;
}

export function cameraIdProblem(id: string): string | undefined {
  return badId(id);
}

/**
 * Default filters: face events and statuses, and the simulator's topics. Gateway stats are left
 * out (one message per gateway every few seconds drowns the events); `--topic` brings them in.
 */
export function watchFilters(
  prefix: string,
  opts: { camera?: string | undefined; topics?: readonly string[] | undefined },
): string[] {
  if (opts.topics && opts.topics.length > 0) return [...new Set(opts.topics)];
  const t = createTopics(prefix);
  if (opts.camera !== undefined) return [t.faces(opts.camera), t.cameraStatus(opts.camera)];
  return [t.allFaces, t.allCameraStatus, t.allGatewayStatus, ...t.simulatorFilters];
}

export function classify(topic: string, prefix: string): TopicKind {
  const t = parseTopic(topic, prefix);
  switch (t?.kind) {
    case 'faces':
    case 'cameraStatus':
    case 'gatewayStatus':
    case 'gatewayStats':
    case 'catalog':
    case 'simulatorStatus':
      return t;
    default:
      return { kind: 'other' };
  }
}

/** With --camera, messages about other cameras are dropped (they can arrive through --topic). */
export function wanted(topic: string, prefix: string, camera: string | undefined): boolean {
  if (camera === undefined) return true;
  const k = classify(topic, prefix);
  return !('camera' in k) || k.camera === camera;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** JSON when it parses, else the text; binary payloads as { base64 }. */
export function parsePayload(payload: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { base64: payload.toString('base64') };
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The catalog lists every camera (hundreds of KB for a city): only its size is shown. */
export function summariseCatalog(p: unknown): unknown {
  if (!isObj(p)) return p;
  const count = num(p['count']) ?? (Array.isArray(p['cameras']) ? p['cameras'].length : undefined);
  const out: Obj = {};
  for (const k of ['v', 'ts', 'shard', 'shardOf', 'cityCameras'] as const) if (k in p) out[k] = p[k];
  out['count'] = count ?? null;
  return out;
}

export interface Received {
  topic: string;
  payload: Buffer;
  retained: boolean;
  /** When watch received it (ms since epoch). */
  at: number;
}

/** `--json`: one object per line; the catalog is summarised here too. */
export function jsonLine(m: Received, prefix: string): string {
  let payload = parsePayload(m.payload);
  if (classify(m.topic, prefix).kind === 'catalog') payload = summariseCatalog(payload);
  return JSON.stringify({ topic: m.topic, ts: new Date(m.at).toISOString(), retained: m.retained, payload });
}

/** Local wall-clock time of day with milliseconds: what a person compares with a clock. */
export function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

function when(ts: unknown, fallback: number): string {
  const t = typeof ts === 'string' ? Date.parse(ts) : NaN;
  return clock(Number.isFinite(t) ? t : fallback);
}

function oneLine(s: string, max = 160): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Boxes are fractions of the frame: shown in pixels of the analysed frame when it is known. */
function boxText(box: number[], frame: unknown): string {
  const [x = 0, y = 0, w = 0, h = 0] = box;
  const fw = isObj(frame) ? num(frame['width']) : undefined;
  const fh = isObj(frame) ? num(frame['height']) : undefined;
  const fractions = box.every((b) => b >= 0 && b <= 1);
  if (fractions && fw && fh) {
    const px = (v: number, size: number): number => Math.round(v * size);
    return `${px(x, fw)},${px(y, fh)} ${px(w, fw)}x${px(h, fh)} of ${fw}x${fh}`;
  }
  if (fractions) return `${x.toFixed(2)},${y.toFixed(2)} ${w.toFixed(2)}x${h.toFixed(2)}`;
  return `${Math.round(x)},${Math.round(y)} ${Math.round(w)}x${Math.round(h)}`;
}

function faceLine(camera: string, o: Obj, at: number): string | undefined {
  const r = faceView.safeParse(o);
  if (!r.success) return undefined;
  const p = r.data;
  const parts = [when(p.ts, at), `camera ${camera}`, p.type.padEnd(6), `box ${boxText(p.box, p.frame)}`];
  if (p.score !== undefined) parts.push(`score ${p.score.toFixed(2)}`);
  if (p.type === 'end' && p.durationS !== undefined)
    parts.push(`after ${p.durationS.toFixed(1)}s${p.endReason ? ` (${p.endReason})` : ''}`);
  parts.push(`gateway ${p.gatewayId ?? '?'}`);
  // The JPEG crop (gateway.crops) is base64: its size tells it is there; --json carries it.
  if (p.crop) parts.push(`crop ${Math.round((p.crop.length * 3) / 4 / 1024)} KB`);
  if (p.eventId) parts.push(`event ${p.eventId.slice(0, 8)}`);
  return parts.join('  ');
}

function statusLine(
  who: string,
  o: Obj,
  at: number,
  view: typeof cameraStatusView | typeof gatewayStatusView,
  showGateway: boolean,
): string | undefined {
  const r = view.safeParse(o);
  if (!r.success) return undefined;
  const { status, detail, ts, gatewayId } = r.data;
  const parts = [when(ts, at), who, 'status', detail ? `${status} (${oneLine(detail, 80)})` : status];
  if (showGateway && gatewayId) parts.push(`gateway ${gatewayId}`);
  return parts.join('  ');
}

function statsLine(gateway: string, o: Obj, at: number): string | undefined {
  const r = statsViewSchema.safeParse(o);
  if (!r.success) return undefined;
  const { cameras: c, frames: f, events: e, cpuPercent } = r.data;
  const parts = [
    when(r.data.ts, at),
    `gateway ${gateway}`,
    'stats',
    `cameras ${c.online ?? '?'}/${c.assigned ?? '?'} online`,
    `frames ${f.analysed ?? '?'} analysed`,
    `events ${e?.published ?? '?'} sent, ${e?.pending ?? '?'} pending`,
  ];
  if (cpuPercent !== undefined) parts.push(`cpu ${Math.round(cpuPercent)}%`);
  return parts.join('  ');
}

/** Cameras per shard catalog seen so far: a shard's catalog line also shows the merged city. */
export type CatalogTally = Map<string, number>;

function simulatorLine(
  kind: 'catalog' | 'simulatorStatus',
  shard: string,
  p: Obj,
  at: number,
  tally: CatalogTally | undefined,
): string | undefined {
  const who = shard ? `simulator ${shard}` : 'simulator';
  if (kind === 'catalog') {
    const s = summariseCatalog(p) as Obj;
    const parts = [when(p['ts'], at), who, 'catalog', `${s['count'] ?? '?'} cameras`];
    const n = num(s['count']);
    if (tally && n !== undefined) {
      tally.set(shard, n);
      if (tally.size > 1) {
        const sum = [...tally.values()].reduce((a, b) => a + b, 0);
        parts.push(`(city: ${sum} cameras from ${tally.size} catalogs)`);
      }
    }
    return parts.join('  ');
  }
  const r = simulatorStatusView.safeParse(p);
  if (!r.success) return undefined;
  const parts = [when(r.data.ts, at), who, 'status', r.data.status];
  if (r.data.cameras !== undefined) parts.push(`${r.data.cameras} cameras, ${r.data.playing ?? 0} playing`);
  return parts.join('  ');
}

/**
 * The readable line. Time is the message's own ts (capture time of a face, start of a status),
 * else the time received. Messages that do not have the expected shape print as topic and text.
 */
export function readableLine(m: Received, prefix: string, tally?: CatalogTally): string {
  const k = classify(m.topic, prefix);
  const p = parsePayload(m.payload);
  let line: string | undefined;
  if (isObj(p)) {
    switch (k.kind) {
      case 'faces':
        line = faceLine(k.camera, p, m.at);
        break;
      case 'cameraStatus':
        line = statusLine(`camera ${k.camera}`, p, m.at, cameraStatusView, true);
        break;
      case 'gatewayStatus':
        line = statusLine(`gateway ${k.gateway}`, p, m.at, gatewayStatusView, false);
        break;
      case 'gatewayStats':
        line = statsLine(k.gateway, p, m.at);
        break;
      case 'catalog':
      case 'simulatorStatus':
        line = simulatorLine(k.kind, k.shard, p, m.at, tally);
        break;
      case 'other':
        break;
    }
  }
  if (line === undefined) {
    const text = typeof p === 'string' ? p : JSON.stringify(k.kind === 'catalog' ? summariseCatalog(p) : p);
    line = [clock(m.at), m.topic, oneLine(text)].join('  ');
  }
  return m.retained ? `${line}  [retained]` : line;
}
