// The gateway: cameras in (config list or the simulator's catalog, shared among gateways by
// rendezvous hashing), ffmpeg decoding, motion gate, detector pool, tracker, MQTT events out.
import { hostname } from 'node:os';
import { createCatalogMerge, parseJson, parseTopic } from '../contract/index.ts';
import { fileURLToPath } from 'node:url';
import type { Config, CameraSource } from '../config/schema.ts';
import type { Polygon } from '../config/privacy.ts';
import type { Logger } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { createCpuMeter } from '../shared/proc.ts';
import type { Ingest } from './ingest/index.ts';
import { startIngestFeed, type FeedCounters } from './ingest-feed.ts';
import { assemble, type Parts } from '../shared/lifecycle.ts';
import { createDetectorPool, type DetectorPool } from './detect/pool.ts';
import { createAnalyzer, type Analyzer, type AnalyzerStats } from './analysis/scheduler.ts';
import { SampleWindow } from './analysis/window.ts';
import { createMotionGate } from './motion.ts';
import { createTracker, type FaceEvent } from './tracker.ts';
import { createPublisher, type Publisher } from './publish/publisher.ts';
import type { GatewayStats } from '../contract/stats.ts';
import { createMetrics } from './metrics.ts';
import { createHttpServer, type HttpServer } from './http.ts';
import { assigned, createMembership, type Membership } from '../shared/membership.ts';
import { parseCatalog } from './catalog.ts';
import { createCropper, createCropStage } from './crop.ts';
import { encodeJpeg } from '../shared/ffmpeg.ts';
import { createGatewayPrivacy, type GatewayPrivacy } from './privacy/index.ts';

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
  let current: CameraSource[] = [];
  const statuses = new Map<string, string>();

  const detector: DetectorPool = await createDetectorPool(
    {
      modelPath: deps.modelPath ?? defaultModelPath,
      threads: g.detectorThreads,
      intraOpThreads: g.detectorIntraOpThreads,
      scoreThreshold: g.scoreThreshold,
    },
    { log },
  );
  parts.add('detector', detector, (d) => d.close());
  const tracker = createTracker({
    gatewayId: id,
    confirmHits: g.confirmHits,
    updateEveryS: g.updateEveryS,
    endAfterS: g.endAfterS,
    sweepAfterS: g.sweepAfterS,
  });
  const motionGate =
    g.motionThreshold > 0
      ? createMotionGate({ threshold: g.motionThreshold, forceEveryS: g.motionForceS })
      : undefined;
  parts.defer('motion gate', () => motionGate?.close());

  const cropper = g.crops ? createCropper((rgb, w, h) => encodeJpeg(deps.ffmpeg, rgb, w, h)) : undefined;
  // Declared before the publisher exists; stats() reads it lazily.
  let publisher: Publisher | undefined;
  let privacy: GatewayPrivacy | undefined;
  // Every event goes through the crop stage, which keeps each face's events in order.
  const out = createCropStage(cropper, cfg.mqtt.messageExpiryS, (events) => {
    for (const ev of events) {
      deps.onEvent?.(ev);
      publisher?.event(ev);
    }
  });
  const emit = (events: readonly FaceEvent[]): void => out.push(events);
  const analyzer: Analyzer = createAnalyzer(
    { budgetFps: g.budgetFps },
    {
      detector,
      motionGate,
      keepAnalysing: (cam) => tracker.hasActive(cam),
      onDetections: (cam, frame, dets) => {
        // A frame that was in the detector when its camera was suspended makes no event.
        if (privacy?.control.suspended(cam)) return;
        // Size filter, as Frigate's min/max area: at an entrance camera a "face" taller than half the
        // picture is something at the lens (the simulator's cat is one), not a person walking by.
        const faces = dets.filter((d) => d.box[3] >= g.minFaceHeight && d.box[3] <= g.maxFaceHeight);
        out.push(tracker.observe(cam, frame, faces), frame);
      },
      log,
    },
  );
  parts.add('analyzer', analyzer, (a) => a.close());
  const cpu = createCpuMeter();
  let supervisor: Ingest | undefined;
  let cpuPercent = 0;
  const stats = (): GatewayStats => {
    const a = analyzer.stats().total;
    const inf = a.inferenceMs;
    const lat = latency.summary();
    const dropped: Record<string, number> = {};
    for (const [k, v] of Object.entries(a.dropped)) if (v > 0) dropped[k] = v;
    // Frames of suspended cameras stop before analysis: counted with the other drops (stats, /metrics).
    const suspended = privacy?.stats().framesSuspended ?? 0;
    if (suspended > 0) dropped['suspended'] = suspended;
    return {
      uptimeS: Math.round((Date.now() - started) / 1000),
      cameras: {
        assigned: current.length,
        online: [...statuses.values()].filter((s) => s === 'online').length,
      },
      frames: {
        decoded: counters.decoded,
        analysed: a.analysed,
        dropped,
        skipped: { ...counters.skipped },
        ...(g.ingest.kind === 'rtsp' ? { catchUp: { ...counters.catchUp } } : {}),
      },
      inferenceMs: { p50: inf.p50, p95: inf.p95 },
      eventLatencyMs: { p50: lat.p50, p95: lat.p95 },
      cpuPercent,
      rssMb: Math.round(process.memoryUsage.rss() / 1e5) / 10,
    };
  };
  const cpuTimer = setInterval(() => (cpuPercent = cpu([process.pid, ...(supervisor?.pids() ?? [])])), 2000);
  cpuTimer.unref();
  parts.defer('cpu timer', () => clearInterval(cpuTimer));

  const mqttUrl = cfg.mqtt.url || deps.mqttUrl || `mqtt://127.0.0.1:${cfg.broker.port}`;
  publisher = createPublisher(
    {
      gatewayId: id,
      prefix: cfg.mqtt.prefix,
      mqtt: {
        ...cfg.mqtt,
        url: mqttUrl,
        clientId: cfg.mqtt.clientId ? `${cfg.mqtt.clientId}-${id}` : '',
        backoffMaxMs: cfg.mqtt.reconnectMaxS * 1000,
      },
      outboxMax: cfg.mqtt.outboxMax,
      messageExpiryS: cfg.mqtt.messageExpiryS,
      statsEveryS: g.statsEveryS,
    },
    {
      log,
      getStats: stats,
      onDelivered: (ev, ackedAt) => {
        if (ev.type === 'start') latency.add(ackedAt - Date.parse(ev.ts));
      },
    },
  );
  const pub = publisher;
  parts.add('publisher', pub, (p) => p.close({ timeoutMs: 2000, flushMs: 0 }));
  const priv = createGatewayPrivacy(cfg, {
    log,
    link: pub.link,
    topics: pub.topics,
    gatewayId: id,
    onSuspend: (cam) => {
      analyzer.removeCamera(cam);
      motionGate?.removeCamera(cam);
      emit(tracker.removeCamera(cam, 'suspended'));
    },
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
      statuses.set(cam, status);
      pub.cameraStatus(cam, status, detail);
      if (status !== 'online') emit(tracker.removeCamera(cam));
    },
  });
  supervisor = feed.ingest;
  counters = feed.counters;
  parts.add('ingest', supervisor, (s) => s.close());
  const sup = supervisor;

  const apply = (list: CameraSource[]): void => {
    const next = new Set(list.map((c) => c.id));
    for (const c of current) {
      if (next.has(c.id)) continue;
      analyzer.removeCamera(c.id);
      motionGate?.removeCamera(c.id);
      emit(tracker.removeCamera(c.id));
      statuses.delete(c.id);
      pub.clearCamera(c.id);
    }
    const added = list.length - current.filter((c) => next.has(c.id)).length;
    if (added > 0 || list.length !== current.length) log.info({ cameras: list.length }, 'cameras assigned');
    current = list;
    priv.setCameras(list);
    sup.setCameras(list);
  };

  // Camera sources: a fixed list, or the simulator's catalog shared with the other gateways.
  let membership: Membership | undefined;
  if (g.cameras.length > 0) {
    apply(g.cameras);
  } else {
    let catalog: CameraSource[] = [];
    let members: string[] = [id];
    let ready = false;
    const reassign = (): void => {
      if (ready) apply(assigned(catalog, members, id));
    };
    membership = createMembership(id, g.settleS * 1000, (m) => {
      members = m;
      log.info({ members: m.length }, 'gateways changed; rebalancing');
      reassign();
    });
    // One simulator's catalog or several shards', merged into one city.
    // Each camera keeps its catalog masks and district, so the merged list is the one source of both.
    const shards = createCatalogMerge<CameraSource & { masks?: Polygon[] }>();
    pub.link.onMessage((topic, payload) => {
      const t = parseTopic(topic, pub.topics.prefix);
      if (t?.kind === 'catalog') {
        if (payload.length === 0) {
          shards.set(t.shard, undefined);
        } else {
          const parsed = parseCatalog(payload, { username: g.rtspUsername, password: g.rtspPassword });
          if (!parsed.ok) {
            log.warn({ error: parsed.error, shard: t.shard || undefined }, 'simulator catalog ignored');
            return;
          }
          shards.set(
            t.shard,
            parsed.cameras.map((c) => {
              const masks = parsed.masks.get(c.id);
              const district = parsed.districts.get(c.id);
              return { ...c, ...(masks ? { masks } : {}), ...(district ? { district } : {}) };
            }),
          );
        }
        const merged = shards.list();
        catalog = merged;
        priv.setCatalog(
          new Map(merged.flatMap((c) => (c.masks ? [[c.id, c.masks] as const] : []))),
          new Map(merged.flatMap((c) => (c.district ? [[c.id, c.district] as const] : []))),
        );
        reassign();
        return;
      }
      if (t?.kind === 'gatewayStatus') {
        const parsed = parseJson(payload);
        const o = parsed.ok ? (parsed.data as { status?: unknown } | null) : undefined;
        membership?.onStatus(t.gateway, o ? String(o.status) : 'offline');
      }
    });
    void pub.link
      .subscribe([...pub.topics.catalogFilters, pub.topics.allGatewayStatus], 1)
      .catch(() => undefined);
    // Retained statuses arrive right after subscribing; take cameras once they had a moment.
    const first = setTimeout(
      () => {
        ready = true;
        members = membership?.members() ?? [id];
        reassign();
      },
      Math.min(g.settleS * 1000, 1500),
    );
    first.unref();
    parts.defer('catalog settle', () => clearTimeout(first));
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
    cameras: () => current.map((c) => c.id),
    stats,
    analysis: () => analyzer.stats(),
    privacy: priv,
    pids: () => sup.pids(),
    async close() {
      clearInterval(sweep);
      clearInterval(cpuTimer);
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
