// RTP for H.264 (RFC 6184), built once per clip and shared by every session. A session adds
// only its own 16-byte prefix per packet: the interleaved frame header (RFC 2326 10.12) and the
// 12-byte RTP header (RFC 3550 5.1) with its SSRC, sequence number and timestamp.
import { NAL_IDR, type AccessUnit } from './h264.ts';

export const RTP_PT = 96;
export const RTP_CLOCK = 90_000;
export const PREFIX_BYTES = 16;
const FU_A = 28;
const STAP_A = 24;

/** One picture's RTP payloads; the marker bit goes on the last one (RFC 6184 5.1). */
export interface RtpFrame {
  payloads: Buffer[];
  idr: boolean;
  /** Sum of payload lengths. */
  bytes: number;
}

/**
 * Single NAL unit packets (RFC 6184 5.6) for NALs up to maxPayload, FU-A (5.8) beyond.
 * SPS and PPS go in front of every IDR so a client may join at any keyframe.
 */
export function packetizeUnit(au: AccessUnit, sps: Buffer, pps: Buffer, maxPayload = 1200): RtpFrame {
  const payloads: Buffer[] = [];
  const nals = au.idr ? [sps, pps, ...au.nals] : au.nals;
  for (const nal of nals) {
    if (nal.length <= maxPayload) {
      payloads.push(nal);
      continue;
    }
    const indicator = (nal[0]! & 0xe0) | FU_A;
    const type = nal[0]! & 0x1f;
    const chunk = maxPayload - 2;
    for (let off = 1; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length);
      const p = Buffer.allocUnsafe(2 + end - off);
      p[0] = indicator;
      p[1] = (off === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      nal.copy(p, 2, off, end);
      payloads.push(p);
    }
  }
  let bytes = 0;
  for (const p of payloads) bytes += p.length;
  return { payloads, idr: au.idr, bytes };
}

/**
 * Writes the interleaved + RTP prefix of one packet at `off` in `buf` (16 bytes).
 * Plain byte stores: this runs for every packet of every session.
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
  const len = payloadLen + 12;
  buf[off] = 0x24; // '$'
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

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  seq: number;
  ts: number;
  ssrc: number;
  /** Offset of the payload in the packet. */
  payloadOffset: number;
}

/** Parses a 12-byte RTP header with CSRCs and extension skipped; undefined if not RTP v2. */
export function parseRtpHeader(pkt: Buffer): RtpHeader | undefined {
  if (pkt.length < 12 || pkt[0]! >> 6 !== 2) return undefined;
  let off = 12 + (pkt[0]! & 0x0f) * 4;
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

/** Reassembles NAL units from RTP payloads (single, STAP-A, FU-A): for tests and checks. */
export function createDepacketizer(): { push(payload: Buffer): Buffer[] } {
  let fu: Buffer[] | undefined;
  return {
    push(payload) {
      if (payload.length < 1) return [];
      const t = payload[0]! & 0x1f;
      if (t === FU_A) {
        if (payload.length < 2) return [];
        const start = (payload[1]! & 0x80) !== 0;
        const end = (payload[1]! & 0x40) !== 0;
        if (start) fu = [Buffer.from([(payload[0]! & 0xe0) | (payload[1]! & 0x1f)])];
        if (!fu) return [];
        fu.push(payload.subarray(2));
        if (!end) return [];
        const nal = Buffer.concat(fu);
        fu = undefined;
        return [nal];
      }
      fu = undefined;
      if (t === STAP_A) {
        const out: Buffer[] = [];
        for (let off = 1; off + 2 <= payload.length; ) {
          const n = payload.readUInt16BE(off);
          out.push(payload.subarray(off + 2, off + 2 + n));
          off += 2 + n;
        }
        return out;
      }
      return [payload];
    },
  };
}

export function isIdrPayload(payload: Buffer): boolean {
  const t = (payload[0] ?? 0) & 0x1f;
  return t === NAL_IDR || (t === FU_A && ((payload[1] ?? 0) & 0x1f) === NAL_IDR);
}
