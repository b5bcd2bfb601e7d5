// The RTSP server: connections, the one scheduler timer, faults, counters and shutdown.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import { loadClip, type ClipSource, type LoadedClip } from './clip.ts';
import { createDigestVerifier } from '../../rtsp/digest-server.ts';
import { createFaultTable, flapDown, lastDisconnectAt, type Fault } from './faults.ts';
import { handleRequest, type Conn, type HandlerContext } from './handlers.ts';
import { formatResponse, type Response } from '../../rtsp/response.ts';
import { createRequestParser } from '../../rtsp/request.ts';
import { refreshFault, tick, type SchedulerDeps, type Totals } from './scheduler.ts';
import { createRegistry, type Session } from './session.ts';

import type { RtspServer, RtspServerOptions } from './server-types.ts';

export type { CameraResolver } from './handlers.ts';
export type { Fault, FaultKind } from './faults.ts';
export type { RtspServer, RtspServerOptions, RtspServerStats, SessionInfo } from './server-types.ts';

const isLoaded = (c: ClipSource | LoadedClip): c is LoadedClip => 'nextIdr' in c;

export function createRtspServer(opts: RtspServerOptions, deps: { log: Logger }): RtspServer {
  const log = deps.log.child({ component: 'rtsp' });
  const now = opts.now ?? Date.now;
  const registry = createRegistry();
  const faultTable = createFaultTable(now);
  const totals: Totals = { packetsSent: 0, bytesSent: 0, framesSent: 0, framesDropped: 0 };
  const responses: Record<string, number> = {};
  const conns = new Map<Socket, Conn>();
  const clips: LoadedClip[] = [];
  const timeoutMs = (opts.sessionTimeoutS ?? 60) * 1000;
  let server: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastHousekeeping = 0;

  function removeSession(s: Session): void {
    registry.remove(s);
    conns.get(s.socket)?.sessions.delete(s);
  }
  function kill(s: Session, reason: string): void {
    log.debug({ camera: s.cameraId, session: s.id, reason }, 'closing session');
    removeSession(s);
    s.socket.destroy();
  }

  const ctx: HandlerContext = {
    clips,
    resolve: opts.resolve,
    registry,
    faults: faultTable,
    auth: opts.auth
      ? createDigestVerifier(opts.auth, opts.auth.realm ?? 'facegate', undefined, undefined, {
          ...(opts.auth.algorithms ? { algorithms: opts.auth.algorithms } : {}),
        })
      : undefined,
    maxSessions: opts.maxSessions ?? 10_000,
    timeoutS: opts.sessionTimeoutS ?? 60,
    epochMs: opts.epochMs ?? 0,
    now,
    log,
    removeSession,
  };
  const sched: SchedulerDeps = {
    registry,
    faults: faultTable,
    totals,
    epochMs: ctx.epochMs,
    maxQueuedBytes: opts.maxQueuedBytes ?? 512 * 1024,
    maxCatchUpFrames: 20,
    kill,
  };

  function housekeeping(t: number): void {
    for (const s of registry.byId.values()) {
      if (t - s.lastSeen > timeoutMs) kill(s, 'session timeout');
    }
    // Connections that never set up a session get the same idle limit.
    for (const c of conns.values())
      if (c.sessions.size === 0 && t - c.lastSeen > timeoutMs) c.socket.destroy();
  }

  function onTick(): void {
    const t = now();
    try {
      tick(sched, t);
      if (t - lastHousekeeping >= 1000) {
        lastHousekeeping = t;
        housekeeping(t);
      }
    } catch (err) {
      log.error({ err }, 'scheduler tick failed');
    }
  }

  function send(conn: Conn, r: Response, cseq: string | undefined): void {
    responses[r.status] = (responses[r.status] ?? 0) + 1;
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

  function onConnection(socket: Socket): void {
    socket.on('error', (err) => log.debug({ err }, 'rtsp socket error'));
    socket.setNoDelay(true);
    const conn: Conn = {
      socket,
      sessions: new Set(),
      nextChannel: 0,
      lastSeen: now(),
      localHost: `${socket.localAddress?.includes(':') && !socket.localAddress.startsWith('::ffff:') ? `[${socket.localAddress}]` : socket.localAddress?.replace(/^::ffff:/, '')}:${socket.localPort}`,
    };
    conns.set(socket, conn);
    const parser = createRequestParser({ maxHeaderBytes: opts.maxHeaderBytes ?? 8192, maxBodyBytes: 8192 });
    let closing = false;
    socket.on('data', (chunk: Buffer) => {
      if (closing) return;
      try {
        for (const ev of parser.push(chunk)) {
          if (ev.kind === 'interleaved') {
            // RTCP receiver reports count as liveness (RFC 2326 A.1 allows either).
            const t = now();
            conn.lastSeen = t;
            for (const s of conn.sessions) s.lastSeen = t;
          } else if (ev.kind === 'error') {
            log.debug({ reason: ev.reason }, 'bad request');
            closing = true;
            send(conn, { status: 400, close: true }, ev.cseq);
          } else {
            const r = handleRequest(ctx, conn, ev.request);
            if (r.close) closing = true;
            send(conn, r, ev.request.cseq);
          }
          if (closing) break;
        }
      } catch (err) {
        log.error({ err }, 'request handling failed');
        closing = true;
        send(conn, { status: 500, close: true }, undefined);
      }
    });
    socket.on('close', () => {
      conns.delete(socket);
      for (const s of conn.sessions) registry.remove(s);
      conn.sessions.clear();
    });
  }

  const clipBytes = (): number => clips.reduce((n, c) => n + c.bytes, 0);

  return {
    async listen() {
      for (const c of opts.clips) clips.push(isLoaded(c) ? c : await loadClip(c, opts.maxPayload));
      const srv = createServer({ noDelay: true }, onConnection);
      server = srv;
      srv.maxConnections = ctx.maxSessions + 1000;
      srv.on('error', (err) => log.error({ err }, 'rtsp server error'));
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(opts.port ?? 8554, opts.host ?? '0.0.0.0', () => {
          srv.off('error', reject);
          resolve();
        });
      });
      timer = setInterval(onTick, opts.tickMs ?? 20);
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      log.info(
        {
          port,
          clips: clips.length,
          h265: clips.filter((c) => c.codec === 'h265').length,
          clipBytes: clipBytes(),
          clipMiB: Math.round((clipBytes() / 2 ** 20) * 10) / 10,
        },
        'rtsp server listening',
      );
      return { port };
    },
    async close(timeoutMs = 3000) {
      if (timer) clearInterval(timer);
      timer = undefined;
      const srv = server;
      server = undefined;
      for (const c of conns.values()) c.socket.destroy();
      if (!srv) return;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutMs);
        t.unref();
        srv.close(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    stats() {
      return {
        connections: conns.size,
        sessions: registry.byId.size,
        playing: registry.playing.size,
        ...totals,
        clipBytes: clipBytes(),
        perCamera: Object.fromEntries(registry.perCamera),
        responses: { ...responses },
      };
    },
    sessions() {
      return [...registry.byId.values()].map((s) => ({
        id: s.id,
        cameraId: s.cameraId,
        state: s.state,
        framesSent: s.framesSent,
        framesDropped: s.framesDropped,
        packetsSent: s.packetsSent,
        bytesSent: s.bytesSent,
        queuedBytes: s.socket.writableLength,
      }));
    },
    setFault(cameraId, fault) {
      faultTable.set(cameraId, fault);
      applyNow();
    },
    setFaultFraction(kind, fraction, seed) {
      faultTable.setFraction(typeof kind === 'string' ? ({ kind } as Fault) : kind, fraction, seed);
      applyNow();
    },
    clearFaults() {
      faultTable.clear();
    },
    faults: () => faultTable.describe(),
    closeCamera(cameraId) {
      let n = 0;
      for (const s of [...registry.byId.values()]) {
        if (s.cameraId === cameraId) {
          kill(s, 'camera closed');
          n++;
        }
      }
      return n;
    },
    closeCamerasExcept(keep) {
      let n = 0;
      for (const s of [...registry.byId.values()]) {
        if (!keep(s.cameraId)) {
          kill(s, 'camera closed');
          n++;
        }
      }
      return n;
    },
  };

  // disconnect and flap act at once on sessions that are set up but not yet playing, too.
  function applyNow(): void {
    for (const s of [...registry.byId.values()]) {
      if (s.state === 'playing') continue;
      refreshFault(s, faultTable);
      const f = s.fault;
      if (!f) continue;
      const t = now();
      if (f.fault.kind === 'disconnect' && s.createdAt <= lastDisconnectAt(f, t))
        kill(s, 'fault: disconnect');
      else if (flapDown(f, t)) kill(s, 'fault: flap');
    }
  }
}
