// One tick for the whole server: every playing session gets the frames that fell due since the
// last tick, written as [prefix, sharedPayload] pairs under one cork()/uncork() (measured: about a
// quarter of the CPU of one write per buffer, see ARCHITECTURE.md "Fan-out in Node").
import type { FaultTable } from './faults.ts';
import { corruptCopy, createRandom, flapDown, lastDisconnectAt } from './faults.ts';
import { PREFIX_BYTES, writePrefix } from '../../rtsp/rtp.ts';
import { frameAt, rtpTime, type Session, type SessionRegistry } from './session.ts';

export interface Totals {
  packetsSent: number;
  bytesSent: number;
  framesSent: number;
  framesDropped: number;
}

export interface SchedulerDeps {
  registry: SessionRegistry;
  faults: FaultTable;
  totals: Totals;
  epochMs: number;
  /** Above this many queued bytes a session drops frames up to the next IDR. */
  maxQueuedBytes: number;
  /** A session further behind than this (event loop stall) skips ahead to the next IDR. */
  maxCatchUpFrames: number;
  /** Ends a session (and its connection when a fault says so). */
  kill(s: Session, reason: string): void;
}

export function refreshFault(s: Session, faults: FaultTable): void {
  const gen = faults.generation();
  if (s.faultGen === gen) return;
  s.faultGen = gen;
  s.fault = faults.get(s.cameraId);
  if (s.fault?.fault.kind === 'corrupt') s.rand ??= createRandom(s.ssrc);
}

export function tick(deps: SchedulerDeps, now: number): void {
  const { totals } = deps;
  const toKill: [Session, string][] = [];
  for (const s of deps.registry.playing) {
    refreshFault(s, deps.faults);
    const f = s.fault;
    let corrupt = 0;
    if (f) {
      const k = f.fault.kind;
      if (k === 'disconnect' && s.createdAt <= lastDisconnectAt(f, now))
        toKill.push([s, 'fault: disconnect']);
      else if (k === 'flap' && flapDown(f, now)) toKill.push([s, 'fault: flap']);
      else if (k === 'corrupt') corrupt = f.fault.probability ?? 0.05;
      else if (k === 'stall') {
        // Time moves on while stalled: on recovery the camera shows the live picture.
        s.nextFrame = frameAt(s, now, deps.epochMs) + 1;
        continue;
      }
    }
    const due = frameAt(s, now, deps.epochMs);
    if (due < s.nextFrame) continue;
    if (due - s.nextFrame >= deps.maxCatchUpFrames) {
      s.framesDropped += due - s.nextFrame;
      totals.framesDropped += due - s.nextFrame;
      s.nextFrame = due;
      s.waitIdr = true;
    }
    const frames = s.clip.frames;
    const n = frames.length;
    const slow = s.socket.writableLength > deps.maxQueuedBytes;
    // Pick frames first, so that the prefixes of this tick live in one small allocation.
    let packets = 0;
    const first = s.nextFrame;
    let pickFrom = -1;
    for (let g = first; g <= due; g++) {
      const fr = frames[g % n]!;
      if (s.waitIdr || slow) {
        if (!fr.idr || slow) {
          s.framesDropped++;
          totals.framesDropped++;
          s.waitIdr = true;
          continue;
        }
        s.waitIdr = false;
      }
      if (pickFrom < 0) pickFrom = g;
      packets += fr.payloads.length;
    }
    s.nextFrame = due + 1;
    if (packets === 0 || s.socket.destroyed) continue;
    const prefixes = Buffer.allocUnsafe(packets * PREFIX_BYTES);
    const sock = s.socket;
    let p = 0;
    let bytes = 0;
    sock.cork();
    for (let g = pickFrom; g <= due; g++) {
      const fr = frames[g % n]!;
      const ts = rtpTime(s, g);
      const last = fr.payloads.length - 1;
      for (let i = 0; i <= last; i++) {
        let payload = fr.payloads[i]!;
        if (corrupt > 0 && s.rand && s.rand() < corrupt) payload = corruptCopy(payload, s.rand);
        const off = p * PREFIX_BYTES;
        writePrefix(prefixes, off, s.channel, payload.length, i === last, s.seq, ts, s.ssrc);
        s.seq = (s.seq + 1) & 0xffff;
        sock.write(prefixes.subarray(off, off + PREFIX_BYTES));
        sock.write(payload);
        bytes += payload.length + PREFIX_BYTES;
        p++;
      }
      s.framesSent++;
      totals.framesSent++;
    }
    sock.uncork();
    s.packetsSent += p;
    s.bytesSent += bytes;
    totals.packetsSent += p;
    totals.bytesSent += bytes;
  }
  for (const [s, reason] of toKill) deps.kill(s, reason);
}
