// The simulator's MQTT side: its catalog and status (under its shard id when it serves a shard),
// control messages, ground truth, and for `shard: auto` the membership of the auto simulators.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import { connectMqtt, mqttOptionsFrom, type MqttLink } from '../shared/mqtt.ts';
import {
  createTopics,
  parseJson,
  parseTopic,
  type Catalog,
  type CatalogCamera,
  type SimulatorStatus,
  type Truth,
} from '../contract/index.ts';
import { createMembership, type Membership } from '../shared/membership.ts';
import type { RtspServer } from './rtsp/server.ts';
import type { Fleet } from './fleet.ts';
import { parseControl, applyControl } from './control.ts';

export interface ShardInfo {
  /** Topic id of this shard (undefined: the whole city, legacy topics). */
  id: string | undefined;
  auto: boolean;
  memberId: string;
  label(): string;
  /** Cameras this process serves now. */
  served(): number;
  /** Auto shards: the online auto simulators changed (and settled). */
  onMembers(members: string[]): void;
}

export interface LinkDeps {
  log: Logger;
  fleet: Fleet;
  rtsp: RtspServer;
  port: number;
  shard: ShardInfo;
  catalog(): CatalogCamera[];
  setCameras(n: number): void;
}

export interface SimulatorLink {
  mqtt: MqttLink;
  publishCatalog(): void;
  publishStatus(): void;
  close(): Promise<void>;
}

export function startSimulatorLink(cfg: Config, mqttUrl: string, deps: LinkDeps): SimulatorLink {
  const { log, fleet, rtsp, shard } = deps;
  const all = createTopics(cfg.mqtt.prefix);
  const topics = { catalog: all.simulatorCatalog(shard.id), status: all.simulatorStatus(shard.id) };
  const statusBody = (status: SimulatorStatus['status']): SimulatorStatus => ({
    v: 1,
    status,
    ts: new Date().toISOString(),
    ...(shard.id
      ? { shard: shard.id, shardOf: shard.label(), mode: shard.auto ? ('auto' as const) : ('fixed' as const) }
      : {}),
  });
  const statusOf = (status: SimulatorStatus['status']): string => JSON.stringify(statusBody(status));
  const mqtt = connectMqtt(
    {
      // Fixed shards of one host differ by shard id; a client id taken twice would drop the other.
      ...mqttOptionsFrom(
        cfg.mqtt,
        mqttUrl,
        cfg.mqtt.clientId ||
          `facegate-simulator-${shard.memberId}${shard.id && !shard.auto ? `-${shard.id}` : ''}`,
      ),
      will: { topic: topics.status, payload: statusOf('offline'), retain: true, qos: 1 },
    },
    log.child({ component: 'simulator-mqtt' }),
  );
  // Auto shards publish nothing until they know their peers, so no gateway sees a full-city shard.
  let ready = !shard.auto;
  const publishCatalog = (): void => {
    if (!ready) return;
    const cameras = deps.catalog();
    const payload = JSON.stringify({
      v: 1,
      ts: new Date().toISOString(),
      count: cameras.length,
      ...(shard.id ? { shard: shard.id, shardOf: shard.label(), cityCameras: fleet.count() } : {}),
      cameras,
    } satisfies Catalog);
    mqtt.publish(topics.catalog, payload, { qos: 1, retain: true }).catch(() => undefined);
  };
  const publishStatus = (): void => {
    if (!mqtt.connected) return;
    const s = rtsp.stats();
    const payload: SimulatorStatus = {
      ...statusBody('online'),
      cameras: shard.served(),
      cityCameras: fleet.count(),
      rtspPort: deps.port,
      sessions: s.sessions,
      playing: s.playing,
      framesSent: s.framesSent,
      framesDropped: s.framesDropped,
      clipBytes: s.clipBytes,
      faults: rtsp.faults(),
    };
    mqtt.publish(topics.status, JSON.stringify(payload), { qos: 0, retain: true }).catch(() => undefined);
  };
  mqtt.on('connect', () => {
    publishCatalog();
    publishStatus();
  });

  const setTopic = all.simulatorSet;
  const membership = shard.auto ? autoMembership(cfg, mqtt, deps, () => (ready = true)) : undefined;
  if (cfg.simulator.control) {
    void mqtt.subscribe(setTopic, 1).catch(() => undefined);
    mqtt.onMessage((topic, payload) => {
      if (topic !== setTopic) return;
      const parsed = parseControl(payload);
      if (!parsed.ok) {
        log.warn({ error: parsed.error }, 'control message refused');
        return;
      }
      try {
        const done = applyControl(parsed.msg, { ...rtsp, setCount: deps.setCameras });
        log.info({ done }, 'control message applied');
        publishStatus();
      } catch (err) {
        log.warn({ error: (err as Error).message }, 'control message refused');
      }
    });
  }
  const statusTimer = setInterval(publishStatus, 5000);
  statusTimer.unref();
  const truthTimer = cfg.simulator.publishTruth ? startTruthPublisher(fleet, mqtt, all.truth) : undefined;

  return {
    mqtt,
    publishCatalog,
    publishStatus,
    async close() {
      clearInterval(statusTimer);
      if (truthTimer) clearInterval(truthTimer);
      membership?.close();
      if (mqtt.connected) {
        // Bounded: a broker that vanished without the link noticing yet never acknowledges.
        const off = Promise.all([
          mqtt.publish(topics.status, statusOf('offline'), { qos: 1, retain: true }),
          // An auto shard's cameras go to its peers: its catalog must not outlive it.
          ...(shard.auto ? [mqtt.publish(topics.catalog, '', { qos: 1, retain: true })] : []),
        ]).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([off, new Promise((r) => (timer = setTimeout(r, 1000)))]);
        clearTimeout(timer);
      }
      await mqtt.close({ timeoutMs: 2000 });
    },
  };
}

/**
 * Auto shards: each auto simulator announces itself on its status topic (last will: offline) and
 * serves the cameras rendezvous hashing over the online auto simulators gives it. When one dies,
 * a survivor removes its retained catalog, so gateways stop pulling cameras nobody serves.
 */
function autoMembership(cfg: Config, mqtt: MqttLink, deps: LinkDeps, onReady: () => void): Membership {
  const { shard, log } = deps;
  const topics = createTopics(cfg.mqtt.prefix);
  let ready = false;
  const membership = createMembership(shard.memberId, cfg.simulator.shardSettleS * 1000, (m) => {
    if (!ready) return;
    log.info({ members: m.length }, 'auto simulator shards changed; resharding');
    shard.onMembers(m);
  });
  mqtt.onMessage((topic, payload) => {
    const t = parseTopic(topic, topics.prefix);
    const id = t?.kind === 'simulatorStatus' ? t.shard : undefined;
    if (!id || id === shard.memberId) return;
    // An empty (cleared) status: gone. Peers of other versions may add fields: read two.
    const json = parseJson(payload);
    const o = (json.ok && typeof json.data === 'object' && json.data !== null ? json.data : {}) as {
      status?: unknown;
      mode?: unknown;
    };
    if (payload.length > 0 && o.mode !== 'auto') return;
    const status = typeof o.status === 'string' ? o.status : 'offline';
    membership.onStatus(id, status);
    if (status !== 'online' && payload.length > 0)
      mqtt.publish(topics.simulatorCatalog(id), '', { qos: 1, retain: true }).catch(() => undefined);
  });
  void mqtt.subscribe(topics.allShardStatus, 1).catch(() => undefined);
  const first = setTimeout(() => {
    ready = true;
    onReady();
    shard.onMembers(membership.members());
  }, cfg.simulator.shardSettleS * 1000);
  first.unref();
  return {
    ...membership,
    close() {
      clearTimeout(first);
      membership.close();
    },
  };
}

/** Once a second, publishes the appearances that started or ended on each camera. */
function startTruthPublisher(
  fleet: Fleet,
  mqtt: MqttLink,
  topic: (cameraId: string) => string,
): NodeJS.Timeout {
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    if (!mqtt.connected) {
      last = now;
      return;
    }
    for (const cam of fleet.list()) {
      for (const iv of fleet.truth(cam.id, last, now)) {
        const events: [Truth['type'], number][] = [];
        if (iv.startMs > last) events.push(['start', iv.startMs]);
        if (iv.endMs < now) events.push(['end', iv.endMs]);
        for (const [type, at] of events) {
          const payload: Truth = {
            v: 1,
            type,
            camera: cam.id,
            appearance: `${iv.id}-${iv.loop}`,
            isFace: iv.isFace,
            kind: iv.asset,
            ts: new Date(at).toISOString(),
          };
          mqtt.publish(topic(cam.id), JSON.stringify(payload), { qos: 0 }).catch(() => undefined);
        }
      }
    }
    last = now;
  }, 1000);
  timer.unref();
  return timer;
}
