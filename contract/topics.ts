// Every topic facegate publishes or reads, built and recognised in one place (zigbee2mqtt's typed
// topic map is the model). Producers build topic names here; subscribers take their filters
// here and classify what arrives with parseTopic. The README's topic table is checked against
// topicTable() by test/contract.test.ts.
//
// One simulator for the whole city publishes <prefix>/simulator/catalog and .../status; a shard
// publishes <prefix>/simulator/shards/<shard>/catalog and .../status, and consumers merge the
// shards' catalogs (contract/catalog.ts). Control stays one topic, <prefix>/simulator/set.
import { assertId, badId, checkPrefix } from './ids.ts';

export interface Topics {
  readonly prefix: string;
  faces(cameraId: string): string;
  cameraStatus(cameraId: string): string;
  gatewayStatus(gatewayId: string): string;
  gatewayStats(gatewayId: string): string;
  /** The whole-city simulator's topics, or a shard's when `shard` is given. */
  simulatorCatalog(shard?: string): string;
  simulatorStatus(shard?: string): string;
  /** Control (in): camera count and faults; every shard obeys it. */
  readonly simulatorSet: string;
  truth(cameraId: string): string;
  /** Privacy: suspend/resume commands (in), retained per-camera audit records, live view audit. */
  readonly privacySet: string;
  privacyState(cameraId: string): string;
  readonly auditLiveView: string;
  /** Filters for subscribers. */
  readonly allFaces: string;
  readonly allCameraStatus: string;
  readonly allGatewayStatus: string;
  readonly allGatewayStats: string;
  readonly allPrivacyState: string;
  readonly allShardStatus: string;
  readonly allTruth: string;
  /** The whole-city catalog and every shard's. */
  readonly catalogFilters: readonly string[];
  /** Catalogs and statuses of the whole-city simulator and of every shard. */
  readonly simulatorFilters: readonly string[];
}

/** Topic builders for a prefix; camera and gateway ids are checked (FACEGATE_ERR_TOPIC, exit 2). */
export function createTopics(prefix: string): Topics {
  const p = checkPrefix(prefix);
  const cam = (id: string): string => assertId('camera', id);
  const gw = (id: string): string => assertId('gateway', id);
  const sim = (shard: string | undefined): string =>
    shard ? `${p}/simulator/shards/${shard}` : `${p}/simulator`;
  const catalogFilters = [`${p}/simulator/catalog`, `${p}/simulator/shards/+/catalog`];
  return {
    prefix: p,
    faces: (id) => `${p}/cameras/${cam(id)}/faces`,
    cameraStatus: (id) => `${p}/cameras/${cam(id)}/status`,
    gatewayStatus: (id) => `${p}/gateways/${gw(id)}/status`,
    gatewayStats: (id) => `${p}/gateways/${gw(id)}/stats`,
    simulatorCatalog: (shard) => `${sim(shard)}/catalog`,
    simulatorStatus: (shard) => `${sim(shard)}/status`,
    simulatorSet: `${p}/simulator/set`,
    truth: (id) => `${p}/truth/${cam(id)}`,
    privacySet: `${p}/privacy/set`,
    privacyState: (id) => `${p}/privacy/${cam(id)}/state`,
    auditLiveView: `${p}/audit/liveview`,
    allFaces: `${p}/cameras/+/faces`,
    allCameraStatus: `${p}/cameras/+/status`,
    allGatewayStatus: `${p}/gateways/+/status`,
    allGatewayStats: `${p}/gateways/+/stats`,
    allPrivacyState: `${p}/privacy/+/state`,
    allShardStatus: `${p}/simulator/shards/+/status`,
    allTruth: `${p}/truth/+`,
    catalogFilters,
    simulatorFilters: [...catalogFilters, `${p}/simulator/status`, `${p}/simulator/shards/+/status`],
  };
}

/** A topic recognised: what it carries and about whom. `shard` is '' for the whole-city simulator. */
export type TopicRef =
  | { kind: 'faces'; camera: string }
  | { kind: 'cameraStatus'; camera: string }
  | { kind: 'gatewayStatus'; gateway: string }
  | { kind: 'gatewayStats'; gateway: string }
  | { kind: 'catalog'; shard: string }
  | { kind: 'simulatorStatus'; shard: string }
  | { kind: 'simulatorSet' }
  | { kind: 'truth'; camera: string }
  | { kind: 'privacySet' }
  | { kind: 'privacyState'; camera: string }
  | { kind: 'auditLiveView' };

export type TopicKind = TopicRef['kind'];

/** Recognises one of our topics under `prefix`; undefined for anything else (or a bad id level). */
export function parseTopic(topic: string, prefix: string): TopicRef | undefined {
  const p = prefix.replace(/\/+$/, '');
  if (!topic.startsWith(`${p}/`)) return undefined;
  const [a, b, c, d, ...more] = topic.slice(p.length + 1).split('/');
  if (more.length > 0 || a === undefined) return undefined;
  if (b === undefined) return undefined;
  if (c === undefined) {
    if (a === 'simulator' && b === 'catalog') return { kind: 'catalog', shard: '' };
    if (a === 'simulator' && b === 'status') return { kind: 'simulatorStatus', shard: '' };
    if (a === 'simulator' && b === 'set') return { kind: 'simulatorSet' };
    if (a === 'privacy' && b === 'set') return { kind: 'privacySet' };
    if (a === 'audit' && b === 'liveview') return { kind: 'auditLiveView' };
    if (a === 'truth' && !badId(b)) return { kind: 'truth', camera: b };
    return undefined;
  }
  if (d !== undefined) {
    if (a !== 'simulator' || b !== 'shards' || !c) return undefined;
    if (d === 'catalog') return { kind: 'catalog', shard: c };
    if (d === 'status') return { kind: 'simulatorStatus', shard: c };
    return undefined;
  }
  if (badId(b)) return undefined;
  if (a === 'cameras' && c === 'faces') return { kind: 'faces', camera: b };
  if (a === 'cameras' && c === 'status') return { kind: 'cameraStatus', camera: b };
  if (a === 'gateways' && c === 'status') return { kind: 'gatewayStatus', gateway: b };
  if (a === 'gateways' && c === 'stats') return { kind: 'gatewayStats', gateway: b };
  if (a === 'privacy' && c === 'state') return { kind: 'privacyState', camera: b };
  return undefined;
}

/** Every topic as the README's table writes it (`<id>`, `<shard>`), by kind; one row per topic. */
export function topicTable(prefix = 'facegate'): { kind: TopicKind; topic: string }[] {
  const t = createTopics(prefix);
  return [
    { kind: 'faces', topic: t.faces('<id>') },
    { kind: 'cameraStatus', topic: t.cameraStatus('<id>') },
    { kind: 'gatewayStatus', topic: t.gatewayStatus('<id>') },
    { kind: 'gatewayStats', topic: t.gatewayStats('<id>') },
    { kind: 'catalog', topic: t.simulatorCatalog() },
    { kind: 'simulatorStatus', topic: t.simulatorStatus() },
    { kind: 'catalog', topic: t.simulatorCatalog('<shard>') },
    { kind: 'simulatorStatus', topic: t.simulatorStatus('<shard>') },
    { kind: 'simulatorSet', topic: t.simulatorSet },
    { kind: 'truth', topic: t.truth('<id>') },
    { kind: 'privacySet', topic: t.privacySet },
    { kind: 'privacyState', topic: t.privacyState('<id>') },
    { kind: 'auditLiveView', topic: t.auditLiveView },
  ];
}
