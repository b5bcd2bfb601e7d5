// The simulator: renders (or loads cached) scenes, serves every camera over RTSP, and publishes
// its catalog, status and optional ground truth over MQTT. MQTT is optional: without a broker
// the cameras still stream and the link keeps retrying.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { hostname } from 'node:os';
import type { MqttLink } from '../shared/mqtt.ts';
import { assemble, type Parts } from '../shared/lifecycle.ts';
import { FACEGATE_ERR_CONFIG } from '../shared/errors.ts';
import { listenError } from '../shared/listen.ts';
import type { CatalogCamera as ContractCamera } from '../contract/catalog.ts';
import { ensureScenes } from './scenes/render.ts';
import type { SceneClip, SceneSpec } from './scenes/types.ts';
import { createRtspServer, type RtspServer } from './rtsp/server.ts';
import { createFleet, type Fleet } from './fleet.ts';
import { parseShard, shardId, shardLabel, shardOwns } from './shard.ts';
import { startSimulatorLink, type ShardInfo, type SimulatorLink } from './link.ts';

export interface SimulatorDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  /** Rendering progress (frames done of total), for a terminal bar. */
  onProgress?: (done: number, total: number) => void;
  /** MQTT broker URL to use when cfg.mqtt.url is empty. */
  mqttUrl?: string;
}

/** A camera as the catalog lists it (contract/catalog.ts), with every field the fleet knows. */
export type CatalogCamera = ContractCamera &
  Required<Pick<ContractCamera, 'district' | 'building' | 'entrance'>>;

export interface Simulator {
  port: number;
  fleet: Fleet;
  clips: SceneClip[];
  rtsp: RtspServer;
  mqtt: MqttLink | undefined;
  /** The shard id this simulator publishes under (undefined: the whole city). */
  shardId: string | undefined;
  /** rtsp://host:port/cam/<id>, without credentials. */
  url(id: string): string;
  catalog(): CatalogCamera[];
  setCameras(n: number): void;
  close(): Promise<void>;
}

/** The scenes a city configuration asks for (the benchmark plans the same ones for ground truth). */
export function sceneSpec(cfg: Config): SceneSpec {
  const c = cfg.city;
  return {
    width: c.width,
    height: c.height,
    fps: c.fps,
    keyframeIntervalS: c.keyframeInterval,
    seconds: c.sceneSeconds,
    count: c.scenes,
    seed: c.seed,
    residentialShare: c.profile === 'mixed' ? c.residentialShare : c.profile === 'residential' ? 1 : 0,
    residentialSeconds: c.residentialSeconds,
    passagesPerHour: c.passagesPerHour,
    h265Share: c.codec === 'mixed' ? c.h265Share : c.codec === 'h265' ? 1 : 0,
    noise: c.noise,
    lights: c.lights,
    distractors: c.distractors,
  };
}

/** Starts the simulator; a failure halfway (RTSP port in use) closes what was started, in reverse. */
export async function createSimulator(cfg: Config, deps: SimulatorDeps): Promise<Simulator> {
  const log = deps.log.child({ component: 'simulator' });
  return assemble((parts) => build(cfg, deps, log, parts), { deadlineMs: 5000, log });
}

async function build(cfg: Config, deps: SimulatorDeps, log: Logger, parts: Parts): Promise<Simulator> {
  const clips = await ensureScenes(sceneSpec(cfg), {
    cacheDir: cfg.simulator.cacheDir,
    ffmpeg: deps.ffmpeg,
    log,
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  });
  const spec = parseShard(cfg.simulator.shard);
  if ('error' in spec) throw FACEGATE_ERR_CONFIG(`simulator: simulator.shard: ${spec.error}`);
  const memberId = cfg.simulator.id || `sim-${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`;
  // Auto shards serve nothing until they know their peers (simulator/link.ts).
  const owns = spec.kind === 'auto' ? () => false : shardOwns(spec, memberId, [memberId]);
  const fleet = createFleet({ count: cfg.city.cameras, seed: cfg.city.seed, clips, owns });
  let served = fleet.list().length;
  const shard: ShardInfo = {
    id: shardId(spec, memberId),
    auto: spec.kind === 'auto',
    memberId,
    label: () => shardLabel(spec, memberId, fleetMembers),
    served: () => served,
    onMembers: () => undefined,
  };
  let fleetMembers: string[] = [memberId];
  const auth = cfg.simulator.username
    ? { username: cfg.simulator.username, password: cfg.simulator.password }
    : undefined;
  const rtsp = createRtspServer(
    {
      host: cfg.simulator.host,
      port: cfg.simulator.port,
      clips,
      resolve: (id) => fleet.get(id),
      maxSessions: cfg.simulator.maxSessions,
      sessionTimeoutS: cfg.simulator.sessionTimeoutS,
      ...(auth ? { auth } : {}),
    },
    { log },
  );
  parts.add('rtsp server', rtsp, (r) => r.close(3000));
  let port: number;
  try {
    ({ port } = await rtsp.listen());
  } catch (err) {
    const where = { host: cfg.simulator.host, port: cfg.simulator.port };
    throw listenError(err, { ...where, what: 'simulator', setting: 'simulator.port' });
  }
  // @hostname: this machine's name, for replicas that cannot be told their own (compose --scale).
  const publicHost = cfg.simulator.publicHost === '@hostname' ? hostname() : cfg.simulator.publicHost;
  const host =
    publicHost ||
    (cfg.simulator.host === '0.0.0.0' || cfg.simulator.host === '::' ? '127.0.0.1' : cfg.simulator.host);
  const url = (id: string): string => `rtsp://${host}:${port}/cam/${id}`;
  const catalog = (): CatalogCamera[] =>
    fleet.list().map(({ clip: _c, phaseS: _p, ...rest }) => ({ ...rest, url: url(rest.id) }));
  log.info(
    { port, cameras: fleet.count(), served, shard: shard.label(), clips: clips.length, auth: Boolean(auth) },
    'RTSP cameras ready',
  );

  const mqttUrl = cfg.mqtt.url || deps.mqttUrl;
  let link: SimulatorLink | undefined;
  // Cameras that left this process (count lowered, or moved to another shard) stop streaming, as a
  // real camera taken down would; then the catalog and status tell the gateways.
  const reshape = (change: () => void, msg: string, fields: object): void => {
    change();
    served = fleet.list().length;
    rtsp.closeCamerasExcept((id) => fleet.get(id) !== undefined);
    log.info({ ...fields, served, shard: shard.label() }, msg);
    link?.publishCatalog();
    link?.publishStatus();
  };
  const setCameras = (n: number): void => {
    const before = fleet.count();
    reshape(() => fleet.setCount(n), 'camera count changed', { cameras: n, before });
  };
  shard.onMembers = (members) =>
    reshape(
      () => {
        fleetMembers = members;
        fleet.setOwns(shardOwns(spec, memberId, members));
      },
      'shard changed',
      { members: members.length },
    );
  if (mqttUrl) {
    link = startSimulatorLink(cfg, mqttUrl, { log, fleet, rtsp, port, shard, catalog, setCameras });
    parts.add('mqtt link', link, (l) => l.close());
  } else {
    log.info('no MQTT broker configured: catalog, status and control are off');
    if (shard.auto) shard.onMembers([shard.memberId]);
  }

  return {
    port,
    fleet,
    clips,
    rtsp,
    mqtt: link?.mqtt,
    shardId: shard.id,
    url,
    catalog,
    setCameras,
    async close() {
      await link?.close();
      await rtsp.close(3000);
    },
  };
}
