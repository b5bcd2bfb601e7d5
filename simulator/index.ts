// The simulator: renders (or loads cached) scenes, serves every camera over RTSP, and publishes
// its catalog, status and optional ground truth over MQTT. MQTT is optional: without a broker
// the cameras still stream and the link keeps retrying.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { connectMqtt, mqttOptionsFrom, type MqttLink } from '../shared/mqtt.ts';
import { UserError } from '../config/errors.ts';
import { ensureScenes } from './scenes/render.ts';
import type { SceneClip, SceneSpec } from './scenes/types.ts';
import { createRtspServer, type RtspServer } from './rtsp/server.ts';
import { createFleet, type Fleet, type CameraInfo } from './fleet.ts';
import { parseControl, applyControl } from './control.ts';

export interface SimulatorDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  /** Rendering progress (frames done of total), for a terminal bar. */
  onProgress?: (done: number, total: number) => void;
  /** MQTT broker URL to use when cfg.mqtt.url is empty. */
  mqttUrl?: string;
}

export interface CatalogCamera extends Omit<CameraInfo, 'clip' | 'phaseS'> {
  url: string;
}

export interface Simulator {
  port: number;
  fleet: Fleet;
  clips: SceneClip[];
  rtsp: RtspServer;
  mqtt: MqttLink | undefined;
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

export async function createSimulator(cfg: Config, deps: SimulatorDeps): Promise<Simulator> {
  const log = deps.log.child({ component: 'simulator' });
  const prefix = cfg.mqtt.prefix;
  const clips = await ensureScenes(sceneSpec(cfg), {
    cacheDir: cfg.simulator.cacheDir,
    ffmpeg: deps.ffmpeg,
    log,
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  });
  const fleet = createFleet({ count: cfg.city.cameras, seed: cfg.city.seed, clips });
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
  let port: number;
  try {
    ({ port } = await rtsp.listen());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'EADDRINUSE'
        ? `simulator: RTSP port ${cfg.simulator.port} is in use; set simulator.port (0 = any free port)`
        : `simulator: cannot listen on ${cfg.simulator.host}:${cfg.simulator.port}: ${code ?? String(err)}`,
      3,
    );
  }
  const host =
    cfg.simulator.publicHost ||
    (cfg.simulator.host === '0.0.0.0' || cfg.simulator.host === '::' ? '127.0.0.1' : cfg.simulator.host);
  const url = (id: string): string => `rtsp://${host}:${port}/cam/${id}`;
  const catalog = (): CatalogCamera[] =>
    fleet.list().map(({ clip: _c, phaseS: _p, ...rest }) => ({ ...rest, url: url(rest.id) }));
  log.info({ port, cameras: fleet.count(), clips: clips.length, auth: Boolean(auth) }, 'RTSP cameras ready');

  const mqttUrl = cfg.mqtt.url || deps.mqttUrl;
  let mqtt: MqttLink | undefined;
  let statusTimer: NodeJS.Timeout | undefined;
  let truthTimer: NodeJS.Timeout | undefined;
  const statusTopic = `${prefix}/simulator/status`;
  const publishCatalog = (): void => {
    if (!mqtt) return;
    const payload = JSON.stringify({
      v: 1,
      ts: new Date().toISOString(),
      count: fleet.count(),
      cameras: catalog(),
    });
    mqtt.publish(`${prefix}/simulator/catalog`, payload, { qos: 1, retain: true }).catch(() => undefined);
  };
  const publishStatus = (): void => {
    if (!mqtt?.connected) return;
    const s = rtsp.stats();
    const payload = {
      v: 1,
      status: 'online',
      ts: new Date().toISOString(),
      cameras: fleet.count(),
      rtspPort: port,
      sessions: s.sessions,
      playing: s.playing,
      framesSent: s.framesSent,
      framesDropped: s.framesDropped,
      clipBytes: s.clipBytes,
      faults: rtsp.faults(),
    };
    mqtt.publish(statusTopic, JSON.stringify(payload), { qos: 0, retain: true }).catch(() => undefined);
  };
  const setCameras = (n: number): void => {
    const before = fleet.count();
    fleet.setCount(n);
    // Cameras that left the fleet stop streaming, as a real camera taken down would.
    for (let i = n; i < before; i++) rtsp.closeCamera(String(i + 1).padStart(6, '0'));
    log.info({ cameras: n, before }, 'camera count changed');
    publishCatalog();
    publishStatus();
  };

  if (mqttUrl) {
    mqtt = connectMqtt(
      {
        ...mqttOptionsFrom(cfg.mqtt, mqttUrl, cfg.mqtt.clientId || `facegate-simulator-${process.pid}`),
        will: {
          topic: statusTopic,
          payload: JSON.stringify({ v: 1, status: 'offline' }),
          retain: true,
          qos: 1,
        },
      },
      log.child({ component: 'simulator-mqtt' }),
    );
    mqtt.on('connect', () => {
      publishCatalog();
      publishStatus();
    });
    if (cfg.simulator.control) {
      const setTopic = `${prefix}/simulator/set`;
      void mqtt.subscribe(setTopic, 1).catch(() => undefined);
      mqtt.onMessage((topic, payload) => {
        if (topic !== setTopic) return;
        const parsed = parseControl(payload);
        if (!parsed.ok) {
          log.warn({ error: parsed.error }, 'control message refused');
          return;
        }
        try {
          const done = applyControl(parsed.msg, { ...rtsp, setCount: setCameras });
          log.info({ done }, 'control message applied');
          publishStatus();
        } catch (err) {
          log.warn({ error: (err as Error).message }, 'control message refused');
        }
      });
    }
    statusTimer = setInterval(publishStatus, 5000);
    statusTimer.unref();
    if (cfg.simulator.publishTruth) truthTimer = startTruthPublisher(fleet, mqtt, prefix);
  } else {
    log.info('no MQTT broker configured: catalog, status and control are off');
  }

  return {
    port,
    fleet,
    clips,
    rtsp,
    mqtt,
    url,
    catalog,
    setCameras,
    async close() {
      if (statusTimer) clearInterval(statusTimer);
      if (truthTimer) clearInterval(truthTimer);
      if (mqtt) {
        if (mqtt.connected) {
          // Bounded: a broker that vanished without the link noticing yet never acknowledges.
          const off = mqtt
            .publish(statusTopic, JSON.stringify({ v: 1, status: 'offline', ts: new Date().toISOString() }), {
              qos: 1,
              retain: true,
            })
            .catch(() => undefined);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([off, new Promise((r) => (timer = setTimeout(r, 1000)))]);
          clearTimeout(timer);
        }
        await mqtt.close({ timeoutMs: 2000 });
      }
      await rtsp.close(3000);
    },
  };
}

/** Once a second, publishes the appearances that started or ended on each camera. */
function startTruthPublisher(fleet: Fleet, mqtt: MqttLink, prefix: string): NodeJS.Timeout {
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (!mqtt.connected) {
      last = now;
      return;
    }
    for (const cam of fleet.list()) {
      for (const iv of fleet.truth(cam.id, last, now)) {
        const startMs = iv.startMs;
        const events: [string, number][] = [];
        if (startMs > last) events.push(['start', startMs]);
        if (iv.endMs < now) events.push(['end', iv.endMs]);
        for (const [type, at] of events) {
          const payload = {
            v: 1,
            type,
            camera: cam.id,
            appearance: `${iv.id}-${iv.loop}`,
            isFace: iv.isFace,
            kind: iv.asset,
            ts: new Date(at).toISOString(),
          };
          mqtt
            .publish(`${prefix}/truth/${cam.id}`, JSON.stringify(payload), { qos: 0 })
            .catch(() => undefined);
        }
      }
    }
    last = now;
  }, 1000);
  timer.unref();
  return timer;
}
