// The RTSP server: connections, the one scheduler timer, faults, counters and shutdown.
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import { loadClip, type ClipSource, type LoadedClip } from './clip.ts';
import { createDigestVerifier, type DigestVerifier } from '../../rtsp/digest-server.ts';
import { createFaultTable, flapDown, lastDisconnectAt, type Fault, type FaultTable } from './faults.ts';
import type { Conn, HandlerContext } from './handlers.ts';
import { acceptConnection } from './connection.ts';
import { refreshFault, tick, type SchedulerDeps, type Totals } from './scheduler.ts';
import { createRegistry, type Session, type SessionRegistry } from './session.ts';

import type { RtspServer, RtspServerOptions, SessionInfo } from './server-types.ts';

export type { CameraResolver } from './handlers.ts';
export type { Fault, FaultKind } from './faults.ts';
export type { RtspServer, RtspServerOptions, RtspServerStats, SessionInfo } from './server-types.ts';

const isLoaded = (c: ClipSource | LoadedClip): c is LoadedClip => 'nextIdr' in c;

const sessionInfo = (s: Session): SessionInfo => ({
  id: s.id,
  cameraId: s.cameraId,
  state: s.state,
  framesSent: s.framesSent,
  framesDropped: s.framesDropped,
  packetsSent: s.packetsSent,
  bytesSent: s.bytesSent,
  queuedBytes: s.socket.writableLength,
});

async function listenOn(
  opts: RtspServerOptions,
  maxSessions: number,
  onConnection: (s: Socket) => void,
  log: Logger,
): Promise<{ server: Server; port: number }> {
  const srv = createServer({ noDelay: true }, onConnection);
  srv.maxConnections = maxSessions + 1000;
  srv.on('error', (err) => log.error({ err }, 'rtsp server error'));
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(opts.port ?? 8554, opts.host ?? '0.0.0.0', () => {
      srv.off('error', reject);
      resolve();
    });
  });
  const addr = srv.address();
  return { server: srv, port: typeof addr === 'object' && addr ? addr.port : 0 };
}

const verifierFor = (auth: RtspServerOptions['auth']): DigestVerifier | undefined =>
  auth
    ? createDigestVerifier(auth, auth.realm ?? 'facegate', undefined, undefined, {
        ...(auth.algorithms ? { algorithms: auth.algorithms } : {}),
      })
    : undefined;

/** disconnect and flap act at once on sessions that are set up but not yet playing, too. */
function applyNow(
  registry: SessionRegistry,
  faultTable: FaultTable,
  t: number,
  kill: (s: Session, reason: string) => void,
): void {
  for (const s of [...registry.byId.values()]) {
    if (s.state === 'playing') continue;
    refreshFault(s, faultTable);
    const f = s.fault;
    if (!f) continue;
    if (f.fault.kind === 'disconnect' && s.createdAt <= lastDisconnectAt(f, t)) kill(s, 'fault: disconnect');
    else if (flapDown(f, t)) kill(s, 'fault: flap');
  }
}

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
    auth: verifierFor(opts.auth),
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

  const onConnection = (socket: Socket): void =>
    acceptConnection(
      { ctx, conns, registry, responses, maxHeaderBytes: opts.maxHeaderBytes ?? 8192, now, log },
      socket,
    );

  const clipBytes = (): number => clips.reduce((n, c) => n + c.bytes, 0);

  return {
    async listen() {
      for (const c of opts.clips) clips.push(isLoaded(c) ? c : await loadClip(c, opts.maxPayload));
      const started = await listenOn(opts, ctx.maxSessions, onConnection, log);
      server = started.server;
      timer = setInterval(onTick, opts.tickMs ?? 20);
      log.info(
        {
          port: started.port,
          clips: clips.length,
          h265: clips.filter((c) => c.codec === 'h265').length,
          clipBytes: clipBytes(),
          clipMiB: Math.round((clipBytes() / 2 ** 20) * 10) / 10,
        },
        'rtsp server listening',
      );
      return { port: started.port };
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
    sessions: () => [...registry.byId.values()].map(sessionInfo),
    setFault(cameraId, fault) {
      faultTable.set(cameraId, fault);
      applyNow(registry, faultTable, now(), kill);
    },
    setFaultFraction(kind, fraction, seed) {
      faultTable.setFraction(typeof kind === 'string' ? ({ kind } as Fault) : kind, fraction, seed);
      applyNow(registry, faultTable, now(), kill);
    },
    clearFaults() {
      faultTable.clear();
    },
    faults: () => faultTable.describe(),
    closeCamera: (cameraId) => closeWhere((id) => id === cameraId),
    closeCamerasExcept: (keep) => closeWhere((id) => !keep(id)),
  };

  function closeWhere(close: (cameraId: string) => boolean): number {
    let n = 0;
    for (const s of [...registry.byId.values()]) {
      if (close(s.cameraId)) {
        kill(s, 'camera closed');
        n++;
      }
    }
    return n;
  }
}
