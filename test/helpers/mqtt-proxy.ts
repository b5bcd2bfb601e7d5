// A TCP proxy between an MQTT client and a real broker that reads just enough of MQTT (fixed
// headers, the CONNECT's protocol level) to stop the exchange at a chosen point: hold one
// direction's packets (PUBACKs kept from the client leave QoS 1 messages in flight), refuse new
// connections, or refuse MQTT 5 the way a 3.1.1-only broker does. Real sockets, no mocks.
import { createServer, connect, type Socket } from 'node:net';

export type Direction = 'toBroker' | 'toClient';

const TYPES = [
  'reserved',
  'connect',
  'connack',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'pingreq',
  'pingresp',
  'disconnect',
  'auth',
] as const;
export type PacketType = (typeof TYPES)[number];

export interface MqttProxy {
  port: number;
  url: string;
  /** While shut, new connections are closed at once (the client keeps retrying). */
  shut(): void;
  open(): void;
  /**
   * Packets in this direction wait in the proxy, in order, until release(); with `after`, once a
   * packet of that type has gone through (hold what follows a CONNACK, so the client reconnects).
   */
  hold(dir: Direction, opts?: { after: PacketType }): void;
  /** Forwards what was held and stops holding. */
  release(dir: Direction): void;
  /** A 3.1.1-only broker: MQTT 5 CONNECTs get CONNACK "unacceptable protocol version". */
  refuseMqtt5: boolean;
  /** Packets of a type seen in a direction since the proxy started (held ones included). */
  count(dir: Direction, type: PacketType): number;
  /** Protocol levels of the CONNECTs passed on to the broker. */
  readonly levels: number[];
  /** Drops every connection (held packets die with them, as in a crash). */
  dropAll(): void;
  close(): Promise<void>;
}

/** Splits a byte stream into whole MQTT packets. */
function framer(onPacket: (p: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (; i < buf.length && i <= 4; i++) {
        const b = buf[i] as number;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) break;
      }
      if (i >= buf.length || i > 4) return; // header incomplete
      const total = i + 1 + len;
      if (buf.length < total) return;
      onPacket(buf.subarray(0, total));
      buf = buf.subarray(total);
    }
  };
}

const typeOf = (p: Buffer): PacketType => TYPES[(p[0] as number) >> 4] ?? 'reserved';

/** The protocol level byte of a CONNECT: after the fixed header and the protocol name. */
function connectLevel(p: Buffer): number {
  let i = 1;
  while (((p[i] as number) & 0x80) !== 0) i++;
  i++;
  const nameLen = p.readUInt16BE(i);
  return p[i + 2 + nameLen] ?? 0;
}

export async function startMqttProxy(brokerPort: number): Promise<MqttProxy> {
  let isOpen = true;
  const holding: Record<Direction, boolean> = { toBroker: false, toClient: false };
  const holdAfter: Record<Direction, PacketType | undefined> = { toBroker: undefined, toClient: undefined };
  const counts = new Map<string, number>();
  const levels: number[] = [];
  interface Pair {
    client: Socket;
    broker: Socket;
    held: Record<Direction, Buffer[]>;
  }
  const pairs = new Set<Pair>();

  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (!isOpen) {
      client.destroy();
      return;
    }
    const broker = connect(brokerPort, '127.0.0.1');
    broker.on('error', () => undefined);
    const pair: Pair = { client, broker, held: { toBroker: [], toClient: [] } };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      broker.destroy();
    };
    client.on('close', drop);
    broker.on('close', drop);
    const pass = (dir: Direction, p: Buffer): void => {
      const type = typeOf(p);
      counts.set(`${dir}:${type}`, (counts.get(`${dir}:${type}`) ?? 0) + 1);
      if (dir === 'toBroker' && type === 'connect') {
        const level = connectLevel(p);
        if (level === 5 && proxy.refuseMqtt5) {
          client.end(Buffer.from([0x20, 0x02, 0x00, 0x01])); // CONNACK rc 1, as aedes answers
          broker.destroy();
          return;
        }
        levels.push(level);
      }
      if (holding[dir] || pair.held[dir].length > 0) pair.held[dir].push(Buffer.from(p));
      else (dir === 'toBroker' ? broker : client).write(p);
      if (holdAfter[dir] === type) {
        holdAfter[dir] = undefined;
        holding[dir] = true;
      }
    };
    client.on(
      'data',
      framer((p) => pass('toBroker', p)),
    );
    broker.on(
      'data',
      framer((p) => pass('toClient', p)),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  const proxy: MqttProxy = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    refuseMqtt5: false,
    levels,
    shut() {
      isOpen = false;
    },
    open() {
      isOpen = true;
    },
    hold(dir, opts) {
      if (opts) holdAfter[dir] = opts.after;
      else holding[dir] = true;
    },
    release(dir) {
      holding[dir] = false;
      holdAfter[dir] = undefined;
      for (const pair of pairs) {
        const out = dir === 'toBroker' ? pair.broker : pair.client;
        for (const p of pair.held[dir].splice(0)) out.write(p);
      }
    },
    count: (dir, type) => counts.get(`${dir}:${type}`) ?? 0,
    dropAll() {
      for (const pair of [...pairs]) {
        pair.client.destroy();
        pair.broker.destroy();
      }
    },
    async close() {
      proxy.dropAll();
      await new Promise((r) => server.close(r));
    },
  };
  return proxy;
}
