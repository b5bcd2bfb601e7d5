// The embedded MQTT broker (aedes, MQTT 3.1.1) that `facegate up` starts when no broker URL is
// given. One file owns aedes.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from './log.ts';
import { listen } from './listen.ts';

export interface EmbeddedBroker {
  port: number;
  url: string;
  close(): Promise<void>;
}

export async function startEmbeddedBroker(
  opts: { host: string; port: number },
  log: Logger,
): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  let port: number;
  try {
    port = await listen(server, {
      ...opts,
      what: 'broker',
      setting: 'broker.port',
      hint: ' or give --mqtt-url',
    });
  } catch (err) {
    broker.close();
    throw err;
  }
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  log.info({ port, host: opts.host }, 'embedded MQTT broker (aedes, MQTT 3.1.1) listening');
  return {
    port,
    url: `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
