// The one file that imports mqtt.js. It speaks MQTT 5 and falls back to 3.1.1 for brokers that
// refuse 5 (aedes), reconnects with exponential backoff and full jitter (mqtt.js only knows a
// fixed interval), and never queues QoS 0 while offline.
import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient, type IClientPublishOptions } from 'mqtt';
import type { Logger } from './log.ts';
import { oneLine, redactUrl } from './log.ts';
import { FACEGATE_ERR_BROKER, FACEGATE_ERR_BROKER_URL, FACEGATE_ERR_FILE } from './errors.ts';

export interface MqttOptions {
  url: string;
  username?: string;
  password?: string;
  /** Files: CA certificate, client certificate and key for TLS. */
  ca?: string;
  cert?: string;
  key?: string;
  clientId: string;
  /** Last will, published by the broker when this client vanishes. */
  will?: { topic: string; payload: string; retain: boolean; qos: 0 | 1 };
  /** Reconnect backoff bounds in ms. */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** Persistent session (clean=false), so QoS 1 messages wait at the broker for us. */
  persistentSession?: boolean;
  keepaliveS?: number;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain?: boolean;
  /** MQTT 5 message expiry; dropped silently on 3.1.1, which has none. */
  expiryS?: number;
  /** MQTT 5 user properties; dropped on 3.1.1. */
  userProperties?: Record<string, string>;
}

/** userProperties: the MQTT 5 user properties of the message (absent on 3.1.1). */
export type MessageHandler = (
  topic: string,
  payload: Buffer,
  retained: boolean,
  userProperties?: Record<string, string | string[]>,
) => void;

export interface MqttLink {
  readonly connected: boolean;
  /** 5 or 4 (3.1.1) once connected; 0 before. */
  readonly protocolVersion: 0 | 4 | 5;
  /** Resolves when the broker acknowledged (QoS 1) or the packet was written (QoS 0). */
  publish(topic: string, payload: string | Buffer, opts: PublishOptions): Promise<void>;
  subscribe(filter: string | string[], qos?: 0 | 1): Promise<void>;
  unsubscribe(filter: string | string[]): Promise<void>;
  onMessage(handler: MessageHandler): void;
  on(event: 'connect' | 'offline', fn: () => void): void;
  /** Resolves on the first connection; rejects with FACEGATE_ERR_BROKER (exit 4) after timeoutMs. */
  waitConnected(timeoutMs: number): Promise<void>;
  close(opts?: { force?: boolean; timeoutMs?: number }): Promise<void>;
}

/** The connection settings of the mqtt config section (empty strings mean unset). */
export function mqttOptionsFrom(
  m: { username: string; password: string; ca: string; cert: string; key: string; reconnectMaxS: number },
  url: string,
  clientId: string,
): MqttOptions {
  const opts: MqttOptions = { url, clientId, backoffMaxMs: m.reconnectMaxS * 1000 };
  if (m.username) opts.username = m.username;
  if (m.password) opts.password = m.password;
  if (m.ca) opts.ca = m.ca;
  if (m.cert) opts.cert = m.cert;
  if (m.key) opts.key = m.key;
  return opts;
}

function readTls(file: string | undefined, what: string): Buffer | undefined {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw FACEGATE_ERR_FILE(
      `mqtt: cannot read ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, base * 2^attempt)]. */
export function jitteredBackoff(
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  return Math.max(minMs / 2, random() * cap);
}

/** mqtt.js options for a first MQTT 5 attempt; reconnects are ours (see schedule in connectMqtt). */
function clientOptions(opts: MqttOptions): IClientOptions {
  const options: IClientOptions = {
    clientId: opts.clientId,
    protocolVersion: 5,
    reconnectPeriod: 0, // we schedule reconnects ourselves, with jitter
    connectTimeout: 10_000,
    keepalive: opts.keepaliveS ?? 30,
    clean: !(opts.persistentSession ?? false),
    queueQoSZero: false,
    resubscribe: false,
    manualConnect: true,
  };
  if (opts.persistentSession) options.properties = { sessionExpiryInterval: 3600 };
  if (opts.username) options.username = opts.username;
  if (opts.password) options.password = opts.password;
  const ca = readTls(opts.ca, 'CA');
  const cert = readTls(opts.cert, 'certificate');
  const key = readTls(opts.key, 'key');
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  if (opts.will) options.will = { ...opts.will, payload: Buffer.from(opts.will.payload) };
  return options;
}

/** Resolves on the next 'connect' of `events`, or rejects with FACEGATE_ERR_BROKER after timeoutMs. */
function nextConnect(events: EventEmitter, timeoutMs: number, why: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      events.off('connect', ok);
      reject(FACEGATE_ERR_BROKER(why()));
    }, timeoutMs);
    const ok = (): void => {
      clearTimeout(t);
      resolve();
    };
    events.once('connect', ok);
  });
}

/** Ends `client` (forced after timeoutMs) and makes sure its socket is gone. */
async function endClient(client: MqttClient, c: { force?: boolean; timeoutMs?: number }): Promise<void> {
  const timeoutMs = c.timeoutMs ?? 3000;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      client.end(true, () => resolve());
    }, timeoutMs);
    client.end(c.force ?? false, () => {
      clearTimeout(t);
      resolve();
    });
  });
  // Ended while still connecting (before CONNACK), mqtt.js leaves the socket open and the
  // broker keeps a half-made session: a startup rolled back in its first milliseconds did that.
  if (!client.stream.destroyed) client.stream.destroy();
}

export function connectMqtt(opts: MqttOptions, log: Logger): MqttLink {
  const minMs = opts.backoffMinMs ?? 500;
  // Attempts double while the broker is away; a cap far above the outage leaves a client offline
  // long after the broker is back (30 s once held a gateway's events past a 5 s crash).
  const maxMs = opts.backoffMaxMs ?? 5000;
  const events = new EventEmitter();
  const handlers: MessageHandler[] = [];
  const subscriptions = new Map<string, 0 | 1>();
  let version: 4 | 5 = 5;
  let connectedVersion: 0 | 4 | 5 = 0;
  let attempt = 0;
  let closing = false;
  let timer: NodeJS.Timeout | undefined;
  let lastError = '';

  const options = clientOptions(opts);

  let client: MqttClient;
  try {
    client = mqtt.connect(opts.url, options);
  } catch (err) {
    throw FACEGATE_ERR_BROKER_URL(`mqtt: bad broker URL ${redactUrl(opts.url)}: ${(err as Error).message}`);
  }

  const schedule = (): void => {
    if (closing || timer) return;
    const delay = jitteredBackoff(attempt++, minMs, maxMs);
    timer = setTimeout(() => {
      timer = undefined;
      if (closing) return;
      client.options.protocolVersion = version;
      if (version === 4) delete client.options.properties;
      else if (opts.persistentSession) client.options.properties = { sessionExpiryInterval: 3600 };
      // Without the stores, reconnect() starts empty ones and loses QoS 1 messages not yet acked.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
    timer.unref();
  };

  client.on('connect', () => {
    attempt = 0;
    connectedVersion = version;
    log.info({ url: redactUrl(opts.url), protocol: version === 5 ? '5' : '3.1.1' }, 'mqtt connected');
    for (const [filter, qos] of subscriptions) client.subscribe(filter, { qos });
    events.emit('connect');
  });
  client.on('error', (err: Error & { code?: number | string }) => {
    if (closing) return; // errors while we hang up ("write after end") are expected
    // A 3.1.1 broker answers a v5 CONNECT with "unacceptable protocol version" (code 1) or closes.
    if (version === 5 && (err.code === 1 || err.code === 132 || /protocol/i.test(err.message))) {
      log.info('mqtt broker refused MQTT 5; falling back to 3.1.1 (no message expiry)');
      version = 4;
      attempt = 0;
      return;
    }
    // OpenSSL errors end with a newline; the message ends up in a one-line exit error.
    const msg = oneLine(redactUrl(err.message.trim()));
    if (msg !== lastError)
      log.warn({ url: redactUrl(opts.url), err: msg }, 'mqtt connection error; retrying');
    lastError = msg;
  });
  client.on('close', () => {
    if (closing) {
      connectedVersion = 0;
      return;
    }
    if (connectedVersion !== 0) {
      connectedVersion = 0;
      log.warn({ url: redactUrl(opts.url) }, 'mqtt disconnected; retrying');
      events.emit('offline');
    }
    schedule();
  });
  client.on('message', (topic, payload, packet) => {
    const props = packet.properties?.userProperties;
    for (const h of handlers) h(topic, payload, packet.retain, props);
  });
  client.connect();

  return {
    get connected() {
      return client.connected;
    },
    get protocolVersion() {
      return connectedVersion;
    },
    publish(topic, payload, p) {
      const popts: IClientPublishOptions = { qos: p.qos, retain: p.retain ?? false };
      if (p.expiryS && connectedVersion === 5) popts.properties = { messageExpiryInterval: p.expiryS };
      if (p.userProperties && connectedVersion === 5)
        popts.properties = { ...popts.properties, userProperties: p.userProperties };
      return new Promise((resolve, reject) => {
        client.publish(topic, payload, popts, (err) => (err ? reject(err) : resolve()));
      });
    },
    async subscribe(filter, qos = 1) {
      for (const f of Array.isArray(filter) ? filter : [filter]) subscriptions.set(f, qos);
      if (!client.connected) return; // sent on connect
      await client.subscribeAsync(filter, { qos });
    },
    async unsubscribe(filter) {
      for (const f of Array.isArray(filter) ? filter : [filter]) subscriptions.delete(f);
      if (client.connected) await client.unsubscribeAsync(filter);
    },
    onMessage(h) {
      handlers.push(h);
    },
    on(event, fn) {
      events.on(event, fn);
    },
    waitConnected(timeoutMs) {
      if (client.connected) return Promise.resolve();
      return nextConnect(
        events,
        timeoutMs,
        () =>
          `mqtt: cannot reach the broker at ${redactUrl(opts.url)} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}`,
      );
    },
    async close(c = {}) {
      closing = true;
      if (timer) clearTimeout(timer);
      await endClient(client, c);
    },
  };
}
