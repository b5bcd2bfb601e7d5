// Interleaved binary data on the RTSP connection (RFC 2326 10.12): '$', channel, 16-bit length,
// data. One reader for both directions: the server skips client frames (keep 0), the load reader
// keeps the 12-byte RTP header of each packet, the client keeps whole packets. Never throws;
// memory is bounded by `keep` (at most one 64 KiB frame).

export const INTERLEAVED_MAGIC = 0x24; // '$'
const EMPTY = Buffer.alloc(0);

export interface InterleavedFrame {
  channel: number;
  /** The frame's full length on the wire (without the 4-byte header). */
  length: number;
  /**
   * The first min(length, keep) bytes of the frame: a view into the pushed chunk when it lies
   * inside one, else a copy. Valid after the call; nothing here writes to it again.
   */
  data: Buffer;
}

export interface FrameReader {
  /** True while a frame is partly read: the next bytes belong to it, not to a message. */
  busy(): boolean;
  /**
   * Reads frame bytes from `chunk` at `off` (where a frame starts, or the current one goes on);
   * returns the new offset. Once a frame's kept bytes are complete, take() hands it out (the rest
   * of it is skipped).
   */
  read(chunk: Buffer, off: number): number;
  /** The frame the last read() completed, once; undefined otherwise. */
  take(): InterleavedFrame | undefined;
}

/** keep: how many bytes of each frame to hand out (Infinity: whole frames). */
export function createFrameReader(keep: number): FrameReader {
  const head = Buffer.alloc(4);
  let headLen = 0;
  let channel = 0;
  let length = 0;
  let inFrame = false;
  let want = 0; // kept bytes still to come
  let kept: Buffer | undefined; // kept bytes gathered across chunks
  let keptLen = 0;
  let skip = 0; // bytes after the kept part still to drop
  let done: InterleavedFrame | undefined;

  function skipIn(chunk: Buffer, i: number): number {
    const n = Math.min(skip, chunk.length - i);
    skip -= n;
    if (skip === 0) inFrame = false;
    return i + n;
  }

  return {
    busy: () => headLen > 0 || inFrame,
    take() {
      const f = done;
      done = undefined;
      return f;
    },
    read(chunk, off) {
      let i = off;
      if (!inFrame) {
        if (headLen === 0 && chunk.length - i >= 4) {
          // Common case: the whole header in this chunk.
          channel = chunk[i + 1]!;
          length = (chunk[i + 2]! << 8) | chunk[i + 3]!;
          i += 4;
        } else {
          while (headLen < 4 && i < chunk.length) head[headLen++] = chunk[i++]!;
          if (headLen < 4) return i;
          headLen = 0;
          channel = head[1]!;
          length = head.readUInt16BE(2);
        }
        inFrame = true;
        want = Math.min(length, keep);
        skip = length - want;
        if (want === 0) {
          done = { channel, length, data: EMPTY };
          return skipIn(chunk, i);
        }
        if (chunk.length - i >= want) {
          // Common case: the kept part lies inside this chunk: a view, no copy.
          done = { channel, length, data: chunk.subarray(i, i + want) };
          i += want;
          want = 0;
          return skipIn(chunk, i);
        }
        kept = Buffer.allocUnsafe(want);
        keptLen = 0;
      }
      if (want === 0 || !kept) return skipIn(chunk, i);
      const n = Math.min(want, chunk.length - i);
      chunk.copy(kept, keptLen, i, i + n);
      keptLen += n;
      want -= n;
      i += n;
      if (want > 0) return i;
      done = { channel, length, data: kept };
      kept = undefined;
      return skipIn(chunk, i);
    },
  };
}

/** Writes a frame header at `off` (4 bytes). */
export function writeInterleavedHeader(buf: Buffer, off: number, channel: number, length: number): void {
  buf[off] = INTERLEAVED_MAGIC;
  buf[off + 1] = channel;
  buf[off + 2] = length >>> 8;
  buf[off + 3] = length & 0xff;
}

/** A whole frame: header and payload (at most 65535 bytes). */
export function encodeInterleaved(channel: number, payload: Buffer): Buffer {
  if (payload.length > 0xffff) throw new RangeError('interleaved frame over 65535 bytes');
  const out = Buffer.allocUnsafe(4 + payload.length);
  writeInterleavedHeader(out, 0, channel, payload.length);
  payload.copy(out, 4);
  return out;
}
