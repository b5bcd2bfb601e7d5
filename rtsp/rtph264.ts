// H.264 over RTP (RFC 6184), packetization-mode 1: single NAL unit packets (5.6), STAP-A (5.7.1)
// and FU-A (5.8), both ways. The depacketizer is the one the gateway runs on camera streams:
// a payload it cannot take is a counted drop (depacketizer.ts), never a truncated NAL unit.
import { NAL_IDR, type AccessUnit } from './h264.ts';
import {
  createAccessUnitDepacketizer,
  fuStep,
  splitAggregate,
  type Depacketizer,
  type DepacketizerLimits,
  type FuState,
  type PayloadReader,
} from './depacketizer.ts';
import type { RtpFrame } from './rtp.ts';

export const STAP_A = 24;
export const FU_A = 28;

/**
 * Single NAL unit packets for NALs up to maxPayload, FU-A beyond.
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

/** STAP-A (RFC 6184 5.7.1) of whole NAL units, each under 64 KiB. */
export function aggregateStapA(nals: readonly Buffer[]): Buffer {
  let nri = 0;
  for (const n of nals) nri = Math.max(nri, n[0]! & 0x60);
  const parts: Buffer[] = [Buffer.from([nri | STAP_A])];
  for (const n of nals) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(n.length);
    parts.push(len, n);
  }
  return Buffer.concat(parts);
}

export function createH264PayloadReader(): PayloadReader {
  let fu: FuState | undefined;
  return {
    reset: () => {
      fu = undefined;
    },
    read(payload, maxNalBytes) {
      if (payload.length < 1) return 'short';
      const t = payload[0]! & 0x1f;
      if (t === FU_A) {
        if (payload.length < 3) return 'short';
        const h = payload[1]!;
        const r = fuStep(
          fu,
          (h & 0x80) !== 0,
          (h & 0x40) !== 0,
          () => Buffer.from([(payload[0]! & 0xe0) | (h & 0x1f)]),
          payload.subarray(2),
          maxNalBytes,
        );
        fu = r.fu;
        return r.out;
      }
      if (fu) {
        fu = undefined;
        return 'fu-without-end';
      }
      if (t >= 1 && t <= 23) return [payload];
      if (t === STAP_A) return splitAggregate(payload, 1, 1) ?? 'stap-length';
      return 'unsupported-type';
    },
  };
}

export function createH264Depacketizer(limits?: DepacketizerLimits): Depacketizer {
  return createAccessUnitDepacketizer(createH264PayloadReader(), limits);
}

/** The payload carries (the start of) an IDR slice. */
export function isIdrPayload(payload: Buffer): boolean {
  const t = (payload[0] ?? 0) & 0x1f;
  return t === NAL_IDR || (t === FU_A && ((payload[1] ?? 0) & 0x1f) === NAL_IDR);
}
