// Slices a raw video pipe into exact frames. A pipe chunk is not a frame: chunks are up to 64 KiB
// and a 320x240 RGB24 frame is 230,400 bytes, so frames span chunks and chunks span frames.
// Memory is bounded by one frame being assembled; complete frames go straight to the callback.

export interface FrameReader {
  /** Feed one chunk from the pipe. */
  push(chunk: Buffer): void;
  /** Bytes of an incomplete frame (dropped if the pipe ends now). */
  pending(): number;
  /** Complete frames delivered so far. */
  frames(): number;
}

/**
 * `onFrame` receives a buffer of exactly `frameBytes` that it owns (never reused by the reader).
 */
export function createFrameReader(frameBytes: number, onFrame: (frame: Buffer) => void): FrameReader {
  if (!Number.isInteger(frameBytes) || frameBytes <= 0)
    throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  let cur: Buffer | undefined;
  let filled = 0;
  let count = 0;

  function push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const left = chunk.length - off;
      if (filled === 0 && left >= frameBytes) {
        // A whole frame inside the chunk: copy it out, so the receiver does not pin the chunk.
        count++;
        onFrame(Buffer.from(chunk.subarray(off, off + frameBytes)));
        off += frameBytes;
        continue;
      }
      cur ??= Buffer.allocUnsafe(frameBytes);
      const n = Math.min(left, frameBytes - filled);
      chunk.copy(cur, filled, off, off + n);
      filled += n;
      off += n;
      if (filled === frameBytes) {
        const done = cur;
        cur = undefined;
        filled = 0;
        count++;
        onFrame(done);
      }
    }
  }

  return { push, pending: () => filled, frames: () => count };
}
