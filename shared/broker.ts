// The embedded MQTT broker (aedes, MQTT 3.1.1) that `facegate up` starts when no broker URL is
// given. One file owns aedes.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from './log.ts';
import { UserError } from '../config/errors.ts';

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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      broker.close();
      reject(
        err.code === 'EADDRINUSE'
          ? new UserError(
              `broker: port ${opts.port} on ${opts.host} is in use; set broker.port (0 = any free port) or give --mqtt-url`,
              3,
            )
          : new UserError(
              `broker: cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`,
              3,
            ),
      );
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
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
