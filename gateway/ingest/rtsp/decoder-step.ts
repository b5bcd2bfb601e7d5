// Stop-and-wait on one pooled decoder: one unit is written, the next only after its frame came
// back, so a frame belongs to the one unit in flight, exactly. A unit whose frame does not come in
// time is lost and a sync unit follows (frames up to its picture are discarded); a frame with no
// unit in flight is never believed (the process restarts). Strict decoders (quarantine) close every
// unit with a sync unit: exact even when a broken unit yields zero or two pictures.
import type { Writable } from 'node:stream';
import { isSyncFrame } from './decoder-units.ts';
import type { Decoder, Entry, PoolContext } from './decoder-state.ts';

/** A restart of a decoder in doubt (decoder-proc.ts). */
export type Recycle = (d: Decoder, why: string) => void;

/** Returns whether `rgb` was delivered (else nothing keeps it). */
export function onDecodedFrame(p: PoolContext, d: Decoder, rgb: Buffer, recycle: Recycle): boolean {
  if (d.syncing) {
    if (!isSyncFrame(rgb)) {
      p.c.discarded++;
      return false;
    }
    clearTimeout(d.timer);
    d.timer = undefined;
    d.syncing = false;
    p.c.syncs++;
    pump(p, d, recycle);
    return false;
  }
  const e = d.inFlight;
  if (d.strict && e) {
    return onStrictFrame(p, d, e, rgb, recycle);
  }
  if (!e || isSyncFrame(rgb)) {
    // Out of step: most likely the unit before gave two pictures (the second one arrived when
    // nothing, or the next unit, was in flight). Nothing of this is delivered; resync, and the
    // camera of that unit gets a strike.
    // A restart, not a sync: a broken unit can leave decoder state behind (a corrupt SPS with
    // reorder frames makes it hold pictures back), which only a new process clears for sure.
    p.c.desyncs++;
    p.c.discarded++;
    if (d.lastCamera !== undefined) p.strike(d.lastCamera);
    recycle(d, 'frame out of step');
    return false;
  }
  if (++e.got < e.pictures) {
    // An earlier picture of a catch-up GOP: decoded only to reach the newest one.
    p.c.discarded++;
    return false;
  }
  clearTimeout(d.timer);
  d.timer = undefined;
  d.inFlight = undefined;
  d.firstOfGen = false;
  deliver(p, d, e, rgb);
  pump(p, d, recycle);
  return true;
}

/**
 * Strict: unit + sync unit in flight. The first picture is the unit's, further ones are extra
 * pictures of a broken unit, the sync picture closes the unit (with or without a frame).
 */
function onStrictFrame(p: PoolContext, d: Decoder, e: Entry, rgb: Buffer, recycle: Recycle): boolean {
  if (isSyncFrame(rgb)) {
    clearTimeout(d.timer);
    d.timer = undefined;
    d.inFlight = undefined;
    d.firstOfGen = false;
    if (!d.delivered) {
      p.c.lost++;
      p.c.empty++;
      p.ev.onLost?.(e.cameraId, e.captureTs);
    }
    pump(p, d, recycle);
    return false;
  }
  if (d.delivered) {
    p.c.discarded++;
    return false;
  }
  d.delivered = true;
  deliver(p, d, e, rgb);
  return true;
}

/** The unit in flight is given up: a loss unless (strict) its frame was already delivered. */
export function dropInFlight(p: PoolContext, d: Decoder): void {
  const e = d.inFlight;
  d.inFlight = undefined;
  if (e && !(d.strict && d.delivered)) {
    p.c.lost++;
    p.ev.onLost?.(e.cameraId, e.captureTs);
  }
}

function deliver(p: PoolContext, d: Decoder, e: Entry, rgb: Buffer): void {
  p.c.decoded++;
  d.lastCamera = e.cameraId;
  try {
    p.ev.onFrame(e.cameraId, rgb, e.captureTs, d.proc?.pid);
  } catch (err) {
    p.log.error({ err }, 'frame handler failed');
  }
}

/** Writes the sync unit; frames up to its picture are discarded. Restart if it does not come. */
function startSync(p: PoolContext, d: Decoder, write: boolean, recycle: Recycle): void {
  clearTimeout(d.timer);
  d.timer = undefined;
  if (!d.stdin) return;
  d.syncing = true;
  const gen = d.gen;
  d.timerDue = Date.now() + p.auTimeoutMs;
  d.timer = setTimeout(() => {
    if (d.gen === gen && d.syncing) recycle(d, 'sync unit timed out');
  }, p.auTimeoutMs);
  d.timer.unref();
  if (write) writeParts(d.stdin, [p.syncUnit, p.aud]);
}

/** One writev for the parts (corked): no concatenated copy of each unit. */
function writeParts(w: Writable, parts: readonly Buffer[]): void {
  w.cork();
  for (const b of parts) w.write(b);
  w.uncork();
}

/** Writes the next queued unit when nothing is in flight. */
export function pump(p: PoolContext, d: Decoder, recycle: Recycle): void {
  if (d.inFlight || d.syncing || !d.stdin || p.closed()) return;
  const e = d.queue.shift();
  if (!e) return;
  if (p.waiting.get(e.cameraId) === e) p.waiting.delete(e.cameraId);
  d.inFlight = e;
  d.delivered = false;
  e.got = 0;
  arm(p, d, e, p.auTimeoutMs + (d.firstOfGen ? p.startGraceMs : 0), recycle);
  // Strict decoders (quarantine) close every unit with a sync unit: ~3 ms more per unit (two
  // decoder and scaler re-inits), exact even when a broken unit yields zero or two pictures.
  writeParts(d.stdin, d.strict ? [e.data, p.aud, p.syncUnit, p.aud] : [e.data, p.aud]);
}

/** (Re)arms the timeout of the unit in flight. */
export function arm(p: PoolContext, d: Decoder, e: Entry, ms: number, recycle: Recycle): void {
  clearTimeout(d.timer);
  const gen = d.gen;
  d.timerDue = Date.now() + ms;
  d.timer = setTimeout(() => {
    if (d.gen !== gen || d.inFlight !== e) return;
    p.c.timeouts++;
    dropInFlight(p, d);
    p.strike(e.cameraId);
    // Its frame may still come (a slow decoder) or never (a unit that decodes to nothing). A
    // strict unit carries its own sync unit: wait for that one, writing another would leave a
    // stale sync picture behind.
    startSync(p, d, !d.strict, recycle);
  }, ms);
  d.timer.unref();
}
