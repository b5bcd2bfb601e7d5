// One way to listen on a port: a server that cannot bind fails with a named one-line error that
// says which setting to change, instead of an 'error' event with a stack. Used by the gateway's
// HTTP server, the console, the embedded broker and (through listenError) the simulator's RTSP server.
import type { Server } from 'node:net';
import { FACEGATE_ERR_PORT_DENIED, FACEGATE_ERR_PORT_IN_USE, type UserError } from './errors.ts';

export interface ListenTarget {
  host: string;
  port: number;
  /** Who listens, the message's first word: `http`, `console`, `broker`, `simulator`. */
  what: string;
  /** The setting that chooses the port, e.g. `http.port`. */
  setting: string;
  /** Said after the setting, e.g. ` or give --mqtt-url`. */
  hint?: string;
}

/** The named error for a failed bind (EADDRINUSE: in use; EACCES and the rest: denied). */
export function listenError(err: unknown, t: ListenTarget): UserError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE')
    return FACEGATE_ERR_PORT_IN_USE(
      `${t.what}: port ${t.port} on ${t.host} is in use; set ${t.setting} (0 = any free port)${t.hint ?? ''}`,
    );
  const why = code === 'EACCES' ? 'EACCES (ports below 1024 need privileges)' : (code ?? String(err));
  return FACEGATE_ERR_PORT_DENIED(`${t.what}: cannot listen on ${t.host}:${t.port}: ${why}`);
}

/** Listens and resolves with the bound port; rejects with listenError's named error. */
export function listen(server: Server, t: ListenTarget): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const fail = (err: Error): void => reject(listenError(err, t));
    server.once('error', fail);
    server.listen(t.port, t.host, () => {
      server.off('error', fail);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : t.port);
    });
  });
}
