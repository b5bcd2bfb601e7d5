// One client connection of the RTSP server: requests parsed by rtsp/request.ts, answered by
// handlers.ts, responses written with rtsp/response.ts; a bad request answers 400 and closes.
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import { createRequestParser } from '../../rtsp/request.ts';
import { formatResponse, type Response } from '../../rtsp/response.ts';
import { handleRequest, type Conn, type HandlerContext } from './handlers.ts';
import type { SessionRegistry } from './session.ts';

export interface ConnectionDeps {
  ctx: HandlerContext;
  conns: Map<Socket, Conn>;
  registry: SessionRegistry;
  /** Responses by status code. */
  responses: Record<string, number>;
  maxHeaderBytes: number;
  now(): number;
  log: Logger;
}

function send(d: ConnectionDeps, conn: Conn, r: Response, cseq: string | undefined): void {
  d.responses[r.status] = (d.responses[r.status] ?? 0) + 1;
  if (conn.socket.destroyed) return;
  conn.socket.write(formatResponse(r, cseq, 'facegate-sim'));
  if (r.close) {
    conn.socket.end();
    // A client that never reads must not pin the socket.
    const t = setTimeout(() => conn.socket.destroy(), 2000);
    t.unref();
    conn.socket.once('close', () => clearTimeout(t));
  }
}

const hostOf = (socket: Socket): string => {
  const a = socket.localAddress;
  const h = a?.includes(':') && !a.startsWith('::ffff:') ? `[${a}]` : a?.replace(/^::ffff:/, '');
  return `${h}:${socket.localPort}`;
};

export function acceptConnection(d: ConnectionDeps, socket: Socket): void {
  socket.on('error', (err) => d.log.debug({ err }, 'rtsp socket error'));
  socket.setNoDelay(true);
  const conn: Conn = {
    socket,
    sessions: new Set(),
    nextChannel: 0,
    lastSeen: d.now(),
    localHost: hostOf(socket),
  };
  d.conns.set(socket, conn);
  const parser = createRequestParser({ maxHeaderBytes: d.maxHeaderBytes, maxBodyBytes: 8192 });
  let closing = false;
  socket.on('data', (chunk: Buffer) => {
    if (closing) return;
    try {
      for (const ev of parser.push(chunk)) {
        if (ev.kind === 'interleaved') {
          // RTCP receiver reports count as liveness (RFC 2326 A.1 allows either).
          const t = d.now();
          conn.lastSeen = t;
          for (const s of conn.sessions) s.lastSeen = t;
        } else if (ev.kind === 'error') {
          d.log.debug({ reason: ev.reason }, 'bad request');
          closing = true;
          send(d, conn, { status: 400, close: true }, ev.cseq);
        } else {
          const r = handleRequest(d.ctx, conn, ev.request);
          if (r.close) closing = true;
          send(d, conn, r, ev.request.cseq);
        }
        if (closing) break;
      }
    } catch (err) {
      d.log.error({ err }, 'request handling failed');
      closing = true;
      send(d, conn, { status: 500, close: true }, undefined);
    }
  });
  socket.on('close', () => {
    d.conns.delete(socket);
    for (const s of conn.sessions) d.registry.remove(s);
    conn.sessions.clear();
  });
}
