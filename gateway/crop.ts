// Opt-in face crops for start events: cut the face (with a margin) out of the analysed frame and
// encode a small JPEG. Rare (one per appearance) and bounded: at most `maxInFlight` encodes at once;
// beyond that the event goes out without a crop (counted), never late.
import type { Box } from './detect/ultraface.ts';
import type { FaceEvent } from './tracker.ts';

/** Copies the box (normalised, plus `margin` of its size on each side) out of a packed RGB frame. */
export function cropRgb(
  rgb: Uint8Array,
  width: number,
  height: number,
  box: Box,
  margin = 0.25,
): { rgb: Buffer; width: number; height: number } {
  const [bx, by, bw, bh] = box;
  const x0 = Math.max(0, Math.floor((bx - bw * margin) * width));
  const y0 = Math.max(0, Math.floor((by - bh * margin) * height));
  const x1 = Math.min(width, Math.ceil((bx + bw * (1 + margin)) * width));
  const y1 = Math.min(height, Math.ceil((by + bh * (1 + margin)) * height));
  // Even sizes keep the JPEG encoder's 4:2:0 chroma happy.
  const w = Math.max(2, (x1 - x0) & ~1);
  const h = Math.max(2, (y1 - y0) & ~1);
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(height - 1, y0 + y);
    const src = (sy * width + x0) * 3;
    const len = Math.min(w, width - x0) * 3;
    out.set(rgb.subarray(src, src + len), y * w * 3);
  }
  return { rgb: out, width: w, height: h };
}

export interface Cropper {
  /** Resolves with base64 JPEG, or undefined when skipped or failed (counted). */
  crop(rgb: Uint8Array, width: number, height: number, box: Box): Promise<string | undefined>;
  stats(): { made: number; skipped: number; failed: number };
}

export function createCropper(
  encode: (rgb: Buffer, w: number, h: number) => Promise<Buffer>,
  maxInFlight = 2,
): Cropper {
  let inFlight = 0;
  const counts = { made: 0, skipped: 0, failed: 0 };
  return {
    async crop(rgb, width, height, box) {
      if (inFlight >= maxInFlight) {
        counts.skipped++;
        return undefined;
      }
      inFlight++;
      try {
        const c = cropRgb(rgb, width, height, box);
        const jpeg = await encode(c.rgb, c.width, c.height);
        counts.made++;
        return jpeg.toString('base64');
      } catch {
        counts.failed++;
        return undefined;
      } finally {
        inFlight--;
      }
    },
    stats: () => ({ ...counts }),
  };
}

export interface CropStage {
  /** The tracker's events in order; `frame` (the analysed one) lets their starts carry a crop. */
  push(events: readonly FaceEvent[], frame?: { rgb: Uint8Array; width: number; height: number }): void;
  /** Starts still waiting for their crop (and the events held behind them). */
  waiting(): number;
  /** Waits up to timeoutMs for the crops, then sends what is left without them. */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Between the tracker and the publisher. A start waits for its crop (an ffmpeg run: tens of ms, seconds
 * on a loaded machine); the later events of the same face wait behind it, so an end never overtakes its
 * start, and drain() on shutdown sends held starts before the publisher closes (else a closing gateway
 * published the end of a face whose start was still being encoded, and lost the start).
 */
/** When a crop must be deleted: the event time plus the MQTT expiry (an hour when there is none). */
export function retainUntil(ts: string, expiryS: number): string {
  return new Date(Date.parse(ts) + (expiryS > 0 ? expiryS : 3600) * 1000).toISOString();
}

export function createCropStage(
  cropper: Cropper | undefined,
  messageExpiryS: number,
  emit: (events: readonly FaceEvent[]) => void,
): CropStage {
  const held = new Map<string, { start: FaceEvent; after: FaceEvent[] }>();
  let settled: (() => void) | undefined;
  const release = (eventId: string, crop?: string): void => {
    const h = held.get(eventId);
    if (!h) return; // already sent by drain()
    held.delete(eventId);
    emit([
      crop ? { ...h.start, crop, retainUntil: retainUntil(h.start.ts, messageExpiryS) } : h.start,
      ...h.after,
    ]);
    if (held.size === 0) settled?.();
  };
  return {
    push(events, frame) {
      for (const ev of events) {
        const h = held.get(ev.eventId);
        if (h) h.after.push(ev);
        else if (ev.type !== 'start' || !cropper || !frame) emit([ev]);
        else {
          held.set(ev.eventId, { start: ev, after: [] });
          // The crop is cut synchronously, before the frame goes back to the decoder.
          cropper.crop(frame.rgb, frame.width, frame.height, ev.box).then(
            (crop) => release(ev.eventId, crop),
            () => release(ev.eventId),
          );
        }
      }
    },
    waiting: () => held.size,
    async drain(timeoutMs) {
      if (held.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          settled = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
        settled = undefined;
      }
      for (const id of [...held.keys()]) release(id);
    },
  };
}
