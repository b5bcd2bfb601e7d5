// One function per RTSP method (RFC 2326 10). Synchronous: a response is written before any
// RTP of the session, because media only goes out from the scheduler tick.
import type { Socket } from 'node:net';
import type { Logger } from '../../shared/log.ts';
import type { LoadedClip } from './clip.ts';
import type { DigestVerifier } from '../../rtsp/digest-server.ts';
import { flapDown, type FaultTable } from './faults.ts';
import {
  chooseTransport,
  formatRtpInfo,
  formatSession,
  formatTransport,
  hex8,
  PUBLIC_METHODS,
} from '../../rtsp/headers.ts';
import type { Response } from '../../rtsp/response.ts';
import { parseCameraUrl, type CameraUrl } from './camera-url.ts';
import type { RtspRequest } from '../../rtsp/request.ts';
import { buildSdp, TRACK_CONTROL } from './describe.ts';
import { newSession, nextIdrFrame, rtpTime, type Session, type SessionRegistry } from './session.ts';

/** Maps a camera id to its clip (an index into the server's clips) and phase; undefined: no such camera. */
export type CameraResolver = (id: string) => { clip: number; phaseS: number } | undefined;

export interface Conn {
  socket: Socket;
  sessions: Set<Session>;
  nextChannel: number;
  lastSeen: number;
  /** host:port the client connected to, for URLs built from bare paths. */
  localHost: string;
}

export interface HandlerContext {
  clips: readonly LoadedClip[];
  resolve: CameraResolver;
  registry: SessionRegistry;
  faults: FaultTable;
  auth: DigestVerifier | undefined;
  maxSessions: number;
  timeoutS: number;
  epochMs: number;
  now(): number;
  log: Logger;
  removeSession(s: Session): void;
}

type CameraCheck =
  | { ok: true; url: CameraUrl; clip: LoadedClip; phaseS: number }
  | { ok: false; response: Response };

/** Resolution, faults and authentication, in that order, for DESCRIBE, SETUP and PLAY. */
function checkCamera(ctx: HandlerContext, conn: Conn, req: RtspRequest): CameraCheck {
  const url = parseCameraUrl(req.uri, conn.localHost);
  const found = url ? ctx.resolve(url.cameraId) : undefined;
  const clip = found ? ctx.clips[found.clip] : undefined;
  if (!url || !found || !clip) return { ok: false, response: { status: 404 } };
  const fault = ctx.faults.get(url.cameraId);
  if (fault && flapDown(fault, ctx.now())) return { ok: false, response: { status: 503, close: true } };
  const wrongPassword = fault?.fault.kind === 'wrongPassword';
  if (ctx.auth || wrongPassword) {
    const result = ctx.auth
      ? ctx.auth.check(req.method, req.uri, req.headers.get('authorization'))
      : 'missing';
    if (result !== 'ok' || wrongPassword) {
      const challenges = ctx.auth
        ? ctx.auth.challenges(result === 'stale')
        : ['Digest realm="facegate", nonce="0", algorithm=MD5'];
      return {
        ok: false,
        response: { status: 401, headers: challenges.map((c): [string, string] => ['WWW-Authenticate', c]) },
      };
    }
  }
  return { ok: true, url, clip, phaseS: found.phaseS };
}

function sessionOf(ctx: HandlerContext, req: RtspRequest): Session | undefined {
  const id = req.headers.get('session')?.split(';')[0]?.trim();
  return id ? ctx.registry.byId.get(id) : undefined;
}

const sessionHeader = (ctx: HandlerContext, s: Session): [string, string] => [
  'Session',
  formatSession({ id: s.id, timeoutS: ctx.timeoutS }),
];

export function handleRequest(ctx: HandlerContext, conn: Conn, req: RtspRequest): Response {
  const now = ctx.now();
  conn.lastSeen = now;
  for (const s of conn.sessions) s.lastSeen = now;
  const own = sessionOf(ctx, req);
  if (own) own.lastSeen = now;
  switch (req.method) {
    case 'OPTIONS':
      return { status: 200, headers: [['Public', PUBLIC_METHODS]] };
    case 'DESCRIBE': {
      const c = checkCamera(ctx, conn, req);
      if (!c.ok) return c.response;
      const host = conn.socket.localAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0';
      return {
        status: 200,
        headers: [
          ['Content-Base', c.url.base],
          ['Content-Type', 'application/sdp'],
        ],
        body: buildSdp(c.clip, c.url.cameraId, host),
      };
    }
    case 'SETUP':
      return setup(ctx, conn, req, own, now);
    case 'PLAY': {
      if (!own) return { status: 454 };
      const c = checkCamera(ctx, conn, req);
      if (!c.ok && c.response.status !== 404) return c.response;
      if (own.state !== 'playing') {
        own.nextFrame = nextIdrFrame(own, now, ctx.epochMs);
        own.waitIdr = false;
        own.state = 'playing';
        ctx.registry.playing.add(own);
      }
      const base = c.ok ? c.url.base : `rtsp://${conn.localHost}/cam/${own.cameraId}/`;
      // Live camera: Range is ignored and reported as "now-" (RFC 2326 12.29).
      return {
        status: 200,
        headers: [
          sessionHeader(ctx, own),
          ['Range', 'npt=now-'],
          [
            'RTP-Info',
            formatRtpInfo([
              { url: `${base}${TRACK_CONTROL}`, seq: own.seq, rtptime: rtpTime(own, own.nextFrame) },
            ]),
          ],
        ],
      };
    }
    case 'PAUSE':
      if (!own) return { status: 454 };
      own.state = 'paused';
      ctx.registry.playing.delete(own);
      return { status: 200, headers: [sessionHeader(ctx, own)] };
    case 'TEARDOWN':
      if (!own) return { status: 454 };
      ctx.removeSession(own);
      return { status: 200 };
    case 'GET_PARAMETER':
      return own ? { status: 200, headers: [sessionHeader(ctx, own)] } : { status: 200 };
    case 'SET_PARAMETER':
      // Keep-alive only: no parameters are settable (RFC 2326 10.9).
      return req.body.length > 0 ? { status: 451 } : { status: 200 };
    default:
      return { status: 501, headers: [['Public', PUBLIC_METHODS]] };
  }
}

function setup(
  ctx: HandlerContext,
  conn: Conn,
  req: RtspRequest,
  own: Session | undefined,
  now: number,
): Response {
  const c = checkCamera(ctx, conn, req);
  if (!c.ok) return c.response;
  const t = chooseTransport(req.headers.get('transport'));
  if (!t) return { status: 461 };
  if (own && own.cameraId !== c.url.cameraId) return { status: 459 };
  let s = own;
  if (!s) {
    if (ctx.registry.byId.size >= ctx.maxSessions) return { status: 453 };
    const channel = t.interleaved?.[0] ?? conn.nextChannel;
    s = newSession({
      cameraId: c.url.cameraId,
      clip: c.clip,
      phaseS: c.phaseS,
      socket: conn.socket,
      channel,
      now,
    });
    ctx.registry.add(s);
    conn.sessions.add(s);
    ctx.log.debug({ camera: s.cameraId, session: s.id }, 'session set up');
  } else if (t.interleaved) {
    s.channel = t.interleaved[0];
  }
  conn.nextChannel = Math.max(conn.nextChannel, s.channel + 2);
  return {
    status: 200,
    headers: [
      [
        'Transport',
        formatTransport({
          protocol: 'RTP/AVP/TCP',
          unicast: true,
          interleaved: [s.channel, s.channel + 1],
          ssrc: hex8(s.ssrc),
          mode: 'PLAY',
        }),
      ],
      sessionHeader(ctx, s),
    ],
  };
}
