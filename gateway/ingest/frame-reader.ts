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
 * `onFrame` receives a buffer of exactly `frameBytes` that it owns (never reused by the reader),
 * unless it returns `true`: then it keeps no reference and the reader fills that buffer with a later
 * frame (a decoder's discarded pictures cost no new allocation, which V8 counts towards its next full
 * garbage collection).
 */
export function createFrameReader(frameBytes: number, onFrame: (frame: Buffer) => unknown): FrameReader {
  if (!Number.isInteger(frameBytes) || frameBytes <= 0)
    throw new RangeError(`frameBytes must be a positive integer, got ${frameBytes}`);
  let cur: Buffer | undefined;
  let spare: Buffer | undefined;
  let filled = 0;
  let count = 0;

  function fresh(): Buffer {
    const b = spare ?? Buffer.allocUnsafe(frameBytes);
    spare = undefined;
    return b;
  }

  function emit(frame: Buffer): void {
    count++;
    if (onFrame(frame) === true) spare = frame;
  }

  function push(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      const left = chunk.length - off;
      if (filled === 0 && left >= frameBytes) {
        // A whole frame inside the chunk: copy it out, so the receiver does not pin the chunk.
        const f = fresh();
        chunk.copy(f, 0, off, off + frameBytes);
        off += frameBytes;
        emit(f);
        continue;
      }
      cur ??= fresh();
      const n = Math.min(left, frameBytes - filled);
      chunk.copy(cur, filled, off, off + n);
      filled += n;
      off += n;
      if (filled === frameBytes) {
        const done = cur;
        cur = undefined;
        filled = 0;
        emit(done);
      }
    }
  }

  return { push, pending: () => filled, frames: () => count };
}
