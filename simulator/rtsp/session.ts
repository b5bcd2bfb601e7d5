// RTSP sessions and where each camera is in its clip. Time is wall clock: at time t a camera
// shows frame floor(((t - epoch) / 1000 + phaseS) * fps) of its clip, looped, so every viewer of
// a camera sees the same picture and RTP timestamps keep growing across loops.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { LoadedClip } from './clip.ts';
import type { ActiveFault } from './faults.ts';
import { RTP_CLOCK } from '../../rtsp/rtp.ts';

export type SessionState = 'ready' | 'playing' | 'paused';

export interface Session {
  id: string;
  cameraId: string;
  clip: LoadedClip;
  phaseS: number;
  socket: Socket;
  /** RTP interleaved channel (RTCP is channel + 1, which we never send). */
  channel: number;
  ssrc: number;
  /** Next RTP sequence number (16 bits). */
  seq: number;
  tsBase: number;
  state: SessionState;
  /** Global (unwrapped) number of the next frame to send. */
  nextFrame: number;
  /** Dropping frames for a slow client until the next IDR. */
  waitIdr: boolean;
  createdAt: number;
  lastSeen: number;
  framesSent: number;
  packetsSent: number;
  bytesSent: number;
  framesDropped: number;
  faultGen: number;
  fault: ActiveFault | undefined;
  rand: (() => number) | undefined;
}

export function frameAt(s: Pick<Session, 'clip' | 'phaseS'>, t: number, epochMs: number): number {
  return Math.floor(((t - epochMs) / 1000 + s.phaseS) * s.clip.fps);
}

/** RTP timestamp of a global frame number, modulo 2^32 (RFC 3550 5.1). */
export function rtpTime(s: Pick<Session, 'clip' | 'tsBase'>, frame: number): number {
  return (s.tsBase + Math.round((frame * RTP_CLOCK) / s.clip.fps)) >>> 0;
}

/** The first global frame at or after `t` that is an IDR: a decoder cannot start mid-GOP. */
export function nextIdrFrame(s: Pick<Session, 'clip' | 'phaseS'>, t: number, epochMs: number): number {
  const cur = frameAt(s, t, epochMs);
  const n = s.clip.frames.length;
  const idx = ((cur % n) + n) % n;
  const idr = s.clip.nextIdr[idx] ?? 0;
  return cur + ((idr - idx + n) % n);
}

export function newSession(p: {
  cameraId: string;
  clip: LoadedClip;
  phaseS: number;
  socket: Socket;
  channel: number;
  now: number;
}): Session {
  const r = randomBytes(12);
  return {
    id: r.subarray(0, 6).toString('hex').toUpperCase(),
    cameraId: p.cameraId,
    clip: p.clip,
    phaseS: p.phaseS,
    socket: p.socket,
    channel: p.channel,
    ssrc: r.readUInt32BE(6),
    seq: r.readUInt16BE(10) & 0x7fff,
    tsBase: r.readUInt32BE(8),
    state: 'ready',
    nextFrame: 0,
    waitIdr: false,
    createdAt: p.now,
    lastSeen: p.now,
    framesSent: 0,
    packetsSent: 0,
    bytesSent: 0,
    framesDropped: 0,
    faultGen: -1,
    fault: undefined,
    rand: undefined,
  };
}

/** All sessions, indexed by id and by camera; the playing ones in an array for the tick. */
export interface SessionRegistry {
  byId: Map<string, Session>;
  perCamera: Map<string, number>;
  playing: Set<Session>;
  add(s: Session): void;
  remove(s: Session): void;
}

export function createRegistry(): SessionRegistry {
  const byId = new Map<string, Session>();
  const perCamera = new Map<string, number>();
  const playing = new Set<Session>();
  return {
    byId,
    perCamera,
    playing,
    add(s) {
      byId.set(s.id, s);
      perCamera.set(s.cameraId, (perCamera.get(s.cameraId) ?? 0) + 1);
    },
    remove(s) {
      if (!byId.delete(s.id)) return;
      playing.delete(s);
      const n = (perCamera.get(s.cameraId) ?? 1) - 1;
      if (n <= 0) perCamera.delete(s.cameraId);
      else perCamera.set(s.cameraId, n);
    },
  };
}
