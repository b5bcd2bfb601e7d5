// Decode on demand (rtsp ingest): a pending frame is decoded on its camera's turn, beside detection,
// at most `maxDecoding` at once, then waits decoded for a detector worker. Split from the scheduler,
// which hands it frames and takes them back through the small interface below.
import type { Logger } from '../../shared/log.ts';
import type { Frame, PendingFrame } from '../frame.ts';
import type { CameraSlot, DropReason } from './slots.ts';

export interface DecodeStageDeps {
  /** False once the camera was removed or the analyzer closed: the frame is let go. */
  live(cam: CameraSlot): boolean;
  /** The motion gate, on the decoded frame. */
  pass(cam: CameraSlot, frame: Frame): boolean;
  /** Nothing to analyse after all: the scheduler counts the drop and gives the token back. */
  refused(cam: CameraSlot, reason: DropReason): void;
  /** A decoded frame waits for a worker. */
  decoded(): void;
  log: Logger;
}

export interface DecodeStage {
  /** True when no pending frame can start decoding now (no decode slot, or workers behind). */
  full(): boolean;
  load(cam: CameraSlot, p: PendingFrame): void;
  /** Decoded frames waiting for a worker. */
  waiting(): number;
  next(): { cam: CameraSlot; frame: Frame } | undefined;
  /** Decoding or decoded, not yet with a worker (stats: in flight). */
  count(): number;
  /** Empties the decoded queue (close). */
  clear(): { cam: CameraSlot; frame: Frame }[];
}

export function createDecodeStage(maxDecoding: number, capacity: number, deps: DecodeStageDeps): DecodeStage {
  let loading = 0;
  const loaded: { cam: CameraSlot; frame: Frame }[] = [];
  return {
    full: () => loading >= maxDecoding || loaded.length >= capacity,
    waiting: () => loaded.length,
    next: () => loaded.shift(),
    count: () => loading + loaded.length,
    clear: () => loaded.splice(0),
    load(cam, p) {
      cam.busy = true;
      loading++;
      void p
        .load()
        .catch(() => undefined)
        .then((frame) => {
          loading--;
          if (!deps.live(cam)) {
            cam.busy = false;
            return;
          }
          if (!frame) return deps.refused(cam, 'lost');
          if (!deps.pass(cam, frame)) return deps.refused(cam, 'motion');
          loaded.push({ cam, frame });
          deps.decoded();
        })
        .catch((err: unknown) => deps.log.error({ err, camera: cam.id }, 'pending frame failed'));
    },
  };
}
