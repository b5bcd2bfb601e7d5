// The gateway: cameras in (config list or the simulator's catalog, shared among gateways by
// rendezvous hashing), ffmpeg decoding, motion gate, detector pool, tracker, MQTT events out.
// This file only assembles the parts, in startup order: pipeline.ts (frames to events),
// assignment.ts and catalog-follow.ts (which cameras), ingest-feed.ts, stats.ts, settings.ts.
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { assemble, type Parts } from '../shared/lifecycle.ts';
import type { Membership } from '../shared/membership.ts';
import type { GatewayStats } from '../contract/stats.ts';
import type { Ingest } from './ingest/index.ts';
import { startIngestFeed, type FeedCounters } from './ingest-feed.ts';
import { createDetectorPool, type DetectorPool } from './detect/pool.ts';
import type { AnalyzerStats } from './analysis/scheduler.ts';
import { SampleWindow } from './analysis/window.ts';
import type { FaceEvent } from './tracker.ts';
import { createPublisher, type Publisher } from './publish/publisher.ts';
import { createMetrics } from './metrics.ts';
import { createHttpServer, type HttpServer } from './http.ts';
import { createGatewayPrivacy, type GatewayPrivacy } from './privacy/index.ts';
import { createAssignment } from './assignment.ts';
import { followCatalog } from './catalog-follow.ts';
import { startPipeline } from './pipeline.ts';
import { createGatewayStats } from './stats.ts';
import { detectorOptions, mqttUrlOf, publisherOptions } from './settings.ts';

export interface GatewayDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  /** Broker to use when cfg.mqtt.url is empty (e.g. the embedded one of `facegate up`). */
  mqttUrl?: string;
  /** Defaults to the vendored UltraFace model. */
  modelPath?: string;
  /** Serve /metrics and /healthz (default true). */
  http?: boolean;
  /** Observes every event as it is handed to the publisher (tests, the console). */
  onEvent?: (ev: FaceEvent) => void;
}

export interface Gateway {
  id: string;
  /** HTTP port of /metrics, or 0 when not served. */
  httpPort: number;
  /** Ids of the cameras this gateway handles now. */
  cameras(): string[];
  stats(): GatewayStats;
  /** The analysis scheduler's counters, per camera and in total (fairness under overload). */
  analysis(): AnalyzerStats;
  /** Masks and suspend windows (tests, the console). */
  privacy: GatewayPrivacy;
  /** Decoder process ids (for CPU and memory measurement). */
  pids(): number[];
  close(): Promise<void>;
}

export const defaultModelPath = fileURLToPath(
  new URL('../assets/models/ultraface-rfb-320.onnx', import.meta.url),
);

/**
 * Starts a gateway. A failure halfway (a port in use, a broken model) closes what was started, in
 * reverse, before the error goes on: no decoder, worker or broker link is left behind.
 */
export async function createGateway(cfg: Config, deps: GatewayDeps): Promise<Gateway> {
  const g = cfg.gateway;
  const id = g.id || `gw-${hostname().replace(/[^A-Za-z0-9_.-]/g, '-')}-${process.pid}`;
  const log = deps.log.child({ gateway: id });
  return assemble((parts) => build(cfg, deps, id, log, parts), { deadlineMs: 12_000, log });
}

async function build(
  cfg: Config,
  deps: GatewayDeps,
  id: string,
  log: Logger,
  parts: Parts,
): Promise<Gateway> {
  const g = cfg.gateway;
  const started = Date.now();
  const latency = new SampleWindow(512);
  // The ingest's counters, once it runs (stats() may be called before).
  let counters: FeedCounters = { decoded: 0, skipped: {}, catchUp: { decoded: 0, refused: 0 } };

  const detector: DetectorPool = await createDetectorPool(
    detectorOptions(g, deps.modelPath ?? defaultModelPath),
    { log },
  );
  parts.add('detector', detector, (d) => d.close());
  // Declared before the publisher, privacy and ingest exist; read lazily until they do.
  let publisher: Publisher | undefined;
  let privacy: GatewayPrivacy | undefined;
  let supervisor: Ingest | undefined;
  const pipeline = startPipeline(cfg, id, {
    log,
    ffmpeg: deps.ffmpeg,
    detector,
    suspended: (cam) => privacy?.control.suspended(cam) ?? false,
    deliver: (ev) => {
      deps.onEvent?.(ev);
      publisher?.event(ev);
    },
    parts,
  });
  const { tracker, motionGate, analyzer, out, emit, forget } = pipeline;
  // apply() is first called below, once privacy, the publisher and the ingest run.
  const cameras = createAssignment({
    log,
    forget: (cam) => forget(cam),
    clearStatus: (cam) => publisher?.clearCamera(cam),
    setCameras: (list) => {
      privacy?.setCameras(list);
      supervisor?.setCameras(list);
    },
  });
  const statsSource = createGatewayStats({
    startedAt: started,
    ingestKind: g.ingest.kind,
    analysis: () => analyzer.stats(),
    latency,
    framesSuspended: () => privacy?.stats().framesSuspended ?? 0,
    feed: () => counters,
    cameras: () => cameras.counts(),
    pids: () => supervisor?.pids() ?? [],
  });
  const stats = statsSource.stats;
  parts.defer('cpu timer', () => statsSource.close());

  const mqttUrl = mqttUrlOf(cfg, deps.mqttUrl);
  const pub = createPublisher(publisherOptions(cfg, id, mqttUrl), {
    log,
    getStats: stats,
    onDelivered: (ev, ackedAt) => {
      if (ev.type === 'start') latency.add(ackedAt - Date.parse(ev.ts));
    },
  });
  publisher = pub;
  parts.add('publisher', pub, (p) => p.close({ timeoutMs: 2000, flushMs: 0 }));
  const priv = createGatewayPrivacy(cfg, {
    log,
    link: pub.link,
    topics: pub.topics,
    gatewayId: id,
    onSuspend: (cam) => forget(cam, 'suspended'),
  });
  privacy = priv;
  parts.add('privacy', priv, (p) => p.close());

  const feed = startIngestFeed(g.ingest, g.stallS, {
    log,
    ffmpeg: deps.ffmpeg,
    analyzer,
    privacy: priv,
    tracked: (cam) => tracker.hasActive(cam),
    onStatus: (cam, status, detail) => {
      cameras.setStatus(cam, status);
      pub.cameraStatus(cam, status, detail);
      if (status !== 'online') emit(tracker.removeCamera(cam));
    },
  });
  const sup = feed.ingest;
  supervisor = sup;
  counters = feed.counters;
  parts.add('ingest', sup, (s) => s.close());

  // Camera sources: a fixed list, or the simulator's catalog shared with the other gateways.
  let membership: Membership | undefined;
  if (g.cameras.length > 0) {
    cameras.apply(g.cameras);
  } else {
    membership = followCatalog(
      { gatewayId: id, settleS: g.settleS, rtsp: { username: g.rtspUsername, password: g.rtspPassword } },
      { log, link: pub.link, topics: pub.topics, privacy: priv, apply: (list) => cameras.apply(list), parts },
    );
  }
  parts.defer('membership', () => membership?.close());

  const sweep = setInterval(() => emit(tracker.sweep(Date.now())), 1000);
  sweep.unref();
  parts.defer('sweep', () => clearInterval(sweep));

  let http: HttpServer | undefined;
  if (deps.http ?? true) {
    const metrics = createMetrics({ gatewayId: id }, () => pub.snapshot());
    http = await createHttpServer(cfg.http, { log, registry: metrics.registry, health: () => pub.health() });
  }
  log.info(
    { mqtt: mqttUrl, cameras: g.cameras.length || 'from catalog', httpPort: http?.port ?? 0 },
    'gateway started',
  );

  return {
    id,
    httpPort: http?.port ?? 0,
    cameras: () => cameras.ids(),
    stats,
    analysis: () => analyzer.stats(),
    privacy: priv,
    pids: () => sup.pids(),
    async close() {
      clearInterval(sweep);
      statsSource.close();
      membership?.close();
      // Inputs first, so nothing new arrives; then analysis; then flush the final events.
      await sup.close();
      priv.close();
      await analyzer.close();
      emit(tracker.close());
      await out.drain(3000);
      await pub.close({ timeoutMs: 5000, flushMs: 2000 });
      await detector.close();
      motionGate?.close();
      await http?.close(2000);
    },
  };
}
