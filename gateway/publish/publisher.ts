// The gateway's MQTT side: face events through the bounded outbox, retained camera and gateway
// statuses (last will included), periodic stats. It owns one MqttLink; others may subscribe on it.
import { connectMqtt, type MqttLink, type MqttOptions } from '../../shared/mqtt.ts';
import type { Logger } from '../../shared/log.ts';
import { createOutbox, type OutboxStats } from './outbox.ts';
import { assertId, badId } from '../../contract/ids.ts';
import { createTopics, type Topics } from '../../contract/topics.ts';
import { statusPayload, type CameraStatus } from '../../contract/status.ts';
import type { GatewayStats, StatsMessage } from '../../contract/stats.ts';
import type { FaceEvent } from '../../contract/faces.ts';

/** The mqtt section of the config; empty strings mean "not set". */
export interface PublisherMqttConfig {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  clientId?: string;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  keepaliveS?: number;
}

export interface PublisherOptions {
  gatewayId: string;
  prefix: string;
  mqtt: PublisherMqttConfig;
  outboxMax: number;
  /** MQTT 5 expiry of face events; 0 = none. */
  messageExpiryS: number;
  /** 0 = no periodic stats. */
  statsEveryS: number;
  /** Events handed to mqtt.js at once (default 64). */
  window?: number;
}

export interface PublisherDeps {
  log: Logger;
  getStats: () => GatewayStats;
  /** Called when the broker acknowledged an event: the gateway measures latency from it. */
  onDelivered?: (ev: FaceEvent, ackedAtMs: number) => void;
  now?: () => Date;
}

export interface Publisher {
  readonly topics: Topics;
  /** For subscriptions by other parts of the gateway (rebalancing listens to gateway statuses). */
  readonly link: MqttLink;
  event(ev: FaceEvent): void;
  /** Retained; published only on change, and all again after every reconnect. */
  cameraStatus(cameraId: string, status: CameraStatus, detail?: string): void;
  /** Forget a camera this gateway no longer handles; its new owner publishes its status. */
  clearCamera(cameraId: string): void;
  stats(): OutboxStats;
  /** The full stats document, as published and as scraped by /metrics. */
  snapshot(): StatsMessage;
  health(): { ok: boolean; reason?: string };
  /** Flush for up to flushMs, publish gateway offline, disconnect; all within timeoutMs. */
  close(opts?: { timeoutMs?: number; flushMs?: number }): Promise<void>;
}

interface Outgoing {
  topic: string;
  payload: string;
  ev: FaceEvent;
}

interface Held {
  status: CameraStatus;
  detail: string | undefined;
  ts: string;
}

/** True if p settled successfully within ms; never rejects. */
function withTimeout(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), Math.max(0, ms));
    const done = (ok: boolean): void => {
      clearTimeout(t);
      resolve(ok);
    };
    p.then(
      () => done(true),
      () => done(false),
    );
  });
}

/** The link's options from the mqtt config: unset (empty) fields are left out, the will is retained. */
function linkOptions(
  m: PublisherMqttConfig,
  gatewayId: string,
  will: { topic: string; payload: string },
): MqttOptions {
  const o: MqttOptions = {
    url: m.url,
    clientId: m.clientId || `facegate-gw-${gatewayId}`,
    will: { ...will, retain: true, qos: 1 },
  };
  if (m.username) o.username = m.username;
  if (m.password) o.password = m.password;
  if (m.ca) o.ca = m.ca;
  if (m.cert) o.cert = m.cert;
  if (m.key) o.key = m.key;
  if (m.backoffMinMs !== undefined) o.backoffMinMs = m.backoffMinMs;
  if (m.backoffMaxMs !== undefined) o.backoffMaxMs = m.backoffMaxMs;
  if (m.keepaliveS !== undefined) o.keepaliveS = m.keepaliveS;
  return o;
}

export function createPublisher(opts: PublisherOptions, deps: PublisherDeps): Publisher {
  const { log } = deps;
  const now = deps.now ?? (() => new Date());
  const gatewayId = assertId('gateway', opts.gatewayId);
  const topics = createTopics(opts.prefix);
  const gwStatusTopic = topics.gatewayStatus(gatewayId);
  const statsTopic = topics.gatewayStats(gatewayId);
  // The broker stamps nothing, so a will's ts is when this session began; readers compare it.
  const will = statusPayload('offline', gatewayId, now(), 'connection lost');
  const mqttOptions = linkOptions(opts.mqtt, gatewayId, { topic: gwStatusTopic, payload: will });

  const link = connectMqtt(mqttOptions, log);
  // True from the link's 'connect' (after mqtt.js resent its own store) to its 'offline'.
  let online = false;
  let closing = false;
  const held = new Map<string, Held>();
  const expiry = opts.messageExpiryS > 0 ? { expiryS: opts.messageExpiryS } : {};

  const outbox = createOutbox<Outgoing>({
    max: opts.outboxMax,
    ...(opts.window !== undefined ? { window: opts.window } : {}),
    log,
    canSend: () => online && link.connected,
    send: async (o) => {
      await link.publish(o.topic, o.payload, { qos: 1, ...expiry });
      deps.onDelivered?.(o.ev, Date.now());
    },
  });

  const sendStatus = (cameraId: string, h: Held): void => {
    const payload = statusPayload(h.status, gatewayId, h.ts, h.detail);
    link.publish(topics.cameraStatus(cameraId), payload, { qos: 1, retain: true }).catch((err: Error) => {
      log.debug({ camera: cameraId, err: err.message }, 'camera status not sent; resent on reconnect');
    });
  };

  link.on('connect', () => {
    online = true;
    // Order: gateway online, every camera status (the broker may have lost retained ones), events.
    link
      .publish(gwStatusTopic, statusPayload('online', gatewayId, now()), { qos: 1, retain: true })
      .catch((err: Error) => {
        log.debug({ err: err.message }, 'gateway status not sent; resent on reconnect');
      });
    for (const [id, h] of held) sendStatus(id, h);
    outbox.pump();
  });
  link.on('offline', () => {
    online = false;
  });

  const snapshot = (): StatsMessage => ({
    v: 1,
    gatewayId,
    ts: now().toISOString(),
    ...deps.getStats(),
    events: outbox.stats(),
    mqtt: { connected: online && link.connected, protocol: link.protocolVersion },
  });

  let statsTimer: NodeJS.Timeout | undefined;
  if (opts.statsEveryS > 0) {
    statsTimer = setInterval(() => {
      if (!online) return; // QoS 0 and stale soon: not worth queueing
      let body: string;
      try {
        body = JSON.stringify(snapshot());
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'gateway stats failed');
        return;
      }
      link.publish(statsTopic, body, { qos: 0 }).catch(() => undefined);
    }, opts.statsEveryS * 1000);
    statsTimer.unref();
  }

  let warnedInvalid = false;
  return {
    topics,
    link,
    event(ev) {
      const why = badId(ev.cameraId);
      if (why) {
        outbox.drop('invalid');
        if (!warnedInvalid)
          log.warn({ camera: ev.cameraId, why }, 'face event for an invalid camera id dropped (logged once)');
        warnedInvalid = true;
        return;
      }
      outbox.push({ topic: topics.faces(ev.cameraId), payload: JSON.stringify(ev), ev });
    },
    cameraStatus(cameraId, status, detail) {
      const why = badId(cameraId);
      if (why) {
        log.warn({ camera: cameraId, why }, 'camera status for an invalid camera id ignored');
        return;
      }
      const prev = held.get(cameraId);
      if (prev && prev.status === status && prev.detail === detail) return;
      const h: Held = { status, detail, ts: now().toISOString() };
      held.set(cameraId, h);
      if (online && !closing) sendStatus(cameraId, h);
    },
    clearCamera(cameraId) {
      held.delete(cameraId);
    },
    stats: () => outbox.stats(),
    snapshot,
    health() {
      if (closing) return { ok: false, reason: 'closing' };
      if (!(online && link.connected)) return { ok: false, reason: 'mqtt disconnected' };
      return { ok: true };
    },
    async close(c = {}) {
      if (closing) return;
      closing = true;
      const deadline = Date.now() + (c.timeoutMs ?? 5000);
      const left = (): number => Math.max(0, deadline - Date.now());
      if (statsTimer) clearInterval(statsTimer);
      const flushed = await outbox.drain(Math.min(c.flushMs ?? 2000, left()));
      if (!flushed) log.warn({ pending: outbox.stats().pending }, 'closing with events still pending');
      // A clean DISCONNECT discards the will (MQTT 5 3.1.2.5), so say offline ourselves.
      if (link.connected) {
        const off = link.publish(gwStatusTopic, statusPayload('offline', gatewayId, now(), 'shutdown'), {
          qos: 1,
          retain: true,
        });
        await withTimeout(off, Math.min(1000, left()));
      }
      outbox.close();
      await link.close({ timeoutMs: Math.max(100, left()) });
    },
  };
}
