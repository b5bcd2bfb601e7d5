// Where the benchmark touches the gateway's and simulator's contracts, in one place: the MQTT
// topics it listens to, the gateway settings it passes on (gateway.ingest among them) and the city
// settings every child gets. When those contracts move, this file is what changes.
import type { Config } from '../config/schema.ts';

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const topics = {
  /** Face events of every camera. */
  faces: (prefix: string): string => `${prefix}/cameras/+/faces`,
  isFaces: (topic: string): boolean => topic.endsWith('/faces'),
  /** Stats of every gateway. */
  stats: (prefix: string): string => `${prefix}/gateways/+/stats`,
  /** Group 1: the gateway id. */
  statsRe: (prefix: string): RegExp => new RegExp(`^${escapeRe(prefix)}/gateways/([^/]+)/stats$`),
};

/** How the gateway under test reads RTSP: 'node' (its own RTP receiver, shared decoders) or ffmpeg. */
export type IngestKind = 'node' | 'ffmpeg';

export function ingestKind(cfg: Config): IngestKind {
  const v: unknown = cfg.gateway.ingest;
  if (v === 'node' || v === 'rtsp') return 'node';
  if (typeof v === 'object' && v !== null && 'kind' in v && (v.kind === 'rtsp' || v.kind === 'node'))
    return 'node';
  return 'ffmpeg';
}

/** The bench's gateway settings (--set gateway.ingest=node ...) handed to the gateway under test. */
export function gatewaySets(cfg: Config): string[] {
  return Object.entries(cfg.gateway)
    .filter(([k]) => k !== 'cameras' && k !== 'id')
    .flatMap(([k, v]) => ['--set', `gateway.${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`]);
}

/** City settings (scenes, profile, realism) and what else every child must share with the bench. */
export function citySets(cfg: Config): string[] {
  return [
    ...Object.entries(cfg.city)
      .filter(([k]) => k !== 'cameras' && k !== 'gateways')
      .map(([k, v]) => `city.${k}=${String(v)}`),
    `simulator.cacheDir=${cfg.simulator.cacheDir}`,
    `mqtt.prefix=${cfg.mqtt.prefix}`,
    'log.level=warn',
    ...(cfg.ffmpeg.path ? [`ffmpeg.path=${cfg.ffmpeg.path}`] : []),
  ].flatMap((s) => ['--set', s]);
}
