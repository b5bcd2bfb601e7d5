// One measuring point of the benchmark: an embedded broker, the simulator (its own process, or
// shards) serving n cameras of one workload, and the bench's subscriber collecting start events and
// gateway stats. The sides (bench/sides.ts) run one after another against it.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../shared/broker.ts';
import { connectMqtt, type MqttLink } from '../shared/mqtt.ts';
import { planScenes } from '../simulator/scenes/render.ts';
import { createFleet, cameraId, type Fleet } from '../simulator/fleet.ts';
import { sceneSpec } from '../simulator/index.ts';
import {
  createTopics,
  faceEventSchema,
  parsePayload,
  parseTopic,
  statsMessageSchema,
  type StatsMessage,
} from '../contract/index.ts';
import { cliPath, startChild, type Child } from './children.ts';
import type { SeenStart } from './score.ts';
import { abortable, type Scope } from './util.ts';
import { citySets } from './wiring.ts';

export interface BenchDeps {
  cfg: Config;
  env: Record<string, string | undefined>;
  log: Logger;
  ffmpeg: FfmpegBinary;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

/** What a side needs: the workload's config (its city profile) and the run's settings. */
export interface Ctx {
  cfg: Config;
  deps: BenchDeps;
  durationS: number;
  warmupS: number;
  simulators: number;
  limitInputsPerProcess: number;
  say(s: string): void;
}

export interface Point {
  n: number;
  broker: EmbeddedBroker;
  /** The simulator shards; camera index i is served by sims[i mod sims.length]. */
  sims: Child[];
  rtspBases: string[];
  fleet: Fleet;
  sub: MqttLink;
  starts: SeenStart[];
  stats: Map<string, StatsMessage>;
}

export function cams(p: Point, n: number): { id: string; url: string }[] {
  return Array.from({ length: n }, (_, i) => ({
    id: cameraId(i),
    url: `${p.rtspBases[i % p.rtspBases.length]}/cam/${cameraId(i)}`,
  }));
}

/** Broker, simulator children and the bench's subscriber for n cameras. */
export async function openPoint(ctx: Ctx, scope: Scope, n: number): Promise<Point> {
  const { cfg, deps } = ctx;
  const log = deps.log;
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, log);
  scope.add('broker', () => broker.close());
  const S = Math.max(1, ctx.simulators);
  ctx.say(
    `starting ${S > 1 ? `${S} simulator shards` : 'simulator'} with ${n} cameras, profile ${cfg.city.profile} (renders scenes on first use)`,
  );
  const sims = Array.from({ length: S }, (_, k) => {
    const shard = S > 1 ? ['--shard', `${k + 1}/${S}`] : [];
    const child = startChild(
      [
        cliPath,
        'simulator',
        '--cameras',
        String(n),
        '--port',
        '0',
        '--mqtt-url',
        broker.url,
        ...shard,
        ...citySets(cfg),
      ],
      deps.env,
      deps.stderr,
    );
    scope.add(`simulator ${k + 1}`, () => child.close(8000));
    return child;
  });
  // Listen to every shard at once: a child's ready line is not kept for a listener added later.
  const ready = await abortable(
    Promise.all(sims.map((sim) => sim.waitLine(/at (rtsp:\/\/\S+)\/cam\/\d+/, 900_000, 'simulator ready'))),
    deps.signal,
  );
  const rtspBases = sims.map((_, k) => ready?.[k]?.[1] ?? '');
  const spec = sceneSpec(cfg);
  const fleet = createFleet({ count: n, seed: spec.seed, clips: planScenes(spec) });
  const sub = connectMqtt({ url: broker.url, clientId: `facegate-bench-${process.pid}-${n}` }, log);
  scope.add('subscriber', () => sub.close({ timeoutMs: 2000 }));
  await sub.waitConnected(10_000);
  const starts: SeenStart[] = [];
  const stats = new Map<string, StatsMessage>();
  const topics = createTopics(cfg.mqtt.prefix);
  sub.onMessage((topic, payload) => {
    const arrivedAt = Date.now();
    const t = parseTopic(topic, topics.prefix);
    if (t?.kind === 'faces') {
      const ev = parsePayload(faceEventSchema, payload, 'face event');
      if (ev.ok && ev.data.type === 'start')
        starts.push({ cameraId: ev.data.cameraId, ts: Date.parse(ev.data.ts), arrivedAt });
    } else if (t?.kind === 'gatewayStats') {
      const sm = parsePayload(statsMessageSchema, payload, 'stats');
      if (sm.ok) stats.set(t.gateway, sm.data);
    }
  });
  await sub.subscribe([topics.allFaces, topics.allGatewayStats], 1);
  return { n, broker, sims, rtspBases, fleet, sub, starts, stats };
}
