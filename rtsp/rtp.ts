// RTP (RFC 3550 5.1) on an interleaved RTSP connection. The server builds the payloads of a clip
// once and shares them by every session; a session adds only its own 16-byte prefix per packet:
// the interleaved frame header (RFC 2326 10.12) and the 12-byte RTP header with its SSRC,
// sequence number and timestamp.
export const RTP_PT = 96;
export const RTP_CLOCK = 90_000;
export const RTP_HEADER_BYTES = 12;
export const PREFIX_BYTES = 4 + RTP_HEADER_BYTES;

/** One picture's RTP payloads; the marker bit goes on the last one (RFC 6184 5.1). */
export interface RtpFrame {
  payloads: Buffer[];
  idr: boolean;
  /** Sum of payload lengths. */
  bytes: number;
}

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  seq: number;
  ts: number;
  ssrc: number;
  /** Offset of the payload in the packet. */
  payloadOffset: number;
}

/** Writes a 12-byte RTP header (V=2, no padding, extension or CSRC) at `off`. */
export function writeRtpHeader(
  buf: Buffer,
  off: number,
  h: Pick<RtpHeader, 'marker' | 'payloadType' | 'seq' | 'ts' | 'ssrc'>,
): void {
  buf[off] = 0x80;
  buf[off + 1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf[off + 2] = (h.seq >>> 8) & 0xff;
  buf[off + 3] = h.seq & 0xff;
  buf.writeUInt32BE(h.ts >>> 0, off + 4);
  buf.writeUInt32BE(h.ssrc >>> 0, off + 8);
}

/**
 * Writes the interleaved + RTP prefix of one packet at `off` in `buf` (16 bytes).
 * Plain byte stores, no objects: this runs for every packet of every session.
 */
export function writePrefix(
  buf: Buffer,
  off: number,
  channel: number,
  payloadLen: number,
  marker: boolean,
  seq: number,
  ts: number,
  ssrc: number,
): void {
  const len = payloadLen + RTP_HEADER_BYTES;
  buf[off] = 0x24; // '$' (RFC 2326 10.12)
  buf[off + 1] = channel;
  buf[off + 2] = len >>> 8;
  buf[off + 3] = len & 0xff;
  buf[off + 4] = 0x80; // V=2, no padding, no extension, no CSRC
  buf[off + 5] = (marker ? 0x80 : 0) | RTP_PT;
  buf[off + 6] = (seq >>> 8) & 0xff;
  buf[off + 7] = seq & 0xff;
  buf.writeUInt32BE(ts >>> 0, off + 8);
  buf.writeUInt32BE(ssrc >>> 0, off + 12);
}

/** Parses an RTP header with CSRCs and extension skipped; undefined if not RTP v2 or truncated. */
export function parseRtpHeader(pkt: Buffer): RtpHeader | undefined {
  if (pkt.length < RTP_HEADER_BYTES || pkt[0]! >> 6 !== 2) return undefined;
  let off = RTP_HEADER_BYTES + (pkt[0]! & 0x0f) * 4;
  if (pkt[0]! & 0x10) {
    if (pkt.length < off + 4) return undefined;
    off += 4 + pkt.readUInt16BE(off + 2) * 4;
  }
  if (off > pkt.length) return undefined;
  return {
    marker: (pkt[1]! & 0x80) !== 0,
    payloadType: pkt[1]! & 0x7f,
    seq: pkt.readUInt16BE(2),
    ts: pkt.readUInt32BE(4),
    ssrc: pkt.readUInt32BE(8),
    payloadOffset: off,
  };
}

/** Payload without padding (RFC 3550 5.1: P bit, count in the last byte); undefined if the count lies. */
export function rtpPayload(pkt: Buffer, h: RtpHeader): Buffer | undefined {
  let end = pkt.length;
  if (pkt[0]! & 0x20) {
    const pad = pkt[end - 1]!;
    if (pad === 0 || h.payloadOffset + pad > end) return undefined;
    end -= pad;
  }
  return pkt.subarray(h.payloadOffset, end);
}
