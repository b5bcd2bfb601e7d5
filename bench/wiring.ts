// Where the benchmark touches the gateway's and simulator's contracts, in one place: the gateway
// settings it passes on (gateway.ingest among them) and the city settings every child gets. Topics
// and payloads come from contract/.
import type { Config } from '../config/schema.ts';

/** How the gateway under test reads RTSP: 'rtsp' (its own RTP receiver, shared decoders) or ffmpeg. */
export type IngestKind = Config['gateway']['ingest']['kind'];

export const ingestKind = (cfg: Config): IngestKind => cfg.gateway.ingest.kind;

/** `--set path=value` pairs for one settings object, nested objects flattened to dotted paths. */
function flatSets(path: string, value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`];
  // The tagged union's kind goes first: its options are checked against the kind given.
  const entries = Object.entries(value).sort(([a], [b]) => Number(b === 'kind') - Number(a === 'kind'));
  return entries.flatMap(([k, v]) => (k === 'kind' ? [`${path}=${String(v)}`] : flatSets(`${path}.${k}`, v)));
}

/** The bench's gateway settings (--set gateway.ingest=rtsp ...) handed to the gateway under test. */
export function gatewaySets(cfg: Config): string[] {
  return Object.entries(cfg.gateway)
    .filter(([k]) => k !== 'cameras' && k !== 'id')
    .flatMap(([k, v]) => flatSets(`gateway.${k}`, v))
    .flatMap((s) => ['--set', s]);
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
