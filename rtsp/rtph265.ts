// H.265 over RTP (RFC 7798): single NAL unit packets (4.4.1) and fragmentation units (4.4.3)
// written; those and aggregation packets (4.4.2, no DONL: sprop-max-don-diff is 0) read. VPS, SPS
// and PPS go in the SDP (sprop-vps/sps/pps, 7.1) and before every IRAP picture.
import type { AccessUnit } from './h264.ts';
import { HEVC_AP, HEVC_FU, hevcType } from './h265.ts';
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

/** Single NAL unit packets up to maxPayload, FUs beyond; VPS/SPS/PPS before IRAPs. */
export function packetizeHevcUnit(au: AccessUnit, ps: readonly Buffer[], maxPayload = 1200): RtpFrame {
  const payloads: Buffer[] = [];
  for (const nal of au.idr ? [...ps, ...au.nals] : au.nals) {
    if (nal.length <= maxPayload) {
      payloads.push(nal);
      continue;
    }
    const type = hevcType(nal);
    // PayloadHdr: F and LayerId/TID of the NAL, Type = 49.
    const h0 = (nal[0]! & 0x81) | (HEVC_FU << 1);
    const h1 = nal[1]!;
    const chunk = maxPayload - 3;
    for (let off = 2; off < nal.length; off += chunk) {
      const end = Math.min(off + chunk, nal.length);
      const p = Buffer.allocUnsafe(3 + end - off);
      p[0] = h0;
      p[1] = h1;
      p[2] = (off === 2 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      nal.copy(p, 3, off, end);
      payloads.push(p);
    }
  }
  let bytes = 0;
  for (const p of payloads) bytes += p.length;
  return { payloads, idr: au.idr, bytes };
}

/** An AP (RFC 7798 4.4.2) of whole NAL units, each under 64 KiB. */
export function aggregateAp(nals: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([HEVC_AP << 1, 1])];
  for (const n of nals) {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(n.length);
    parts.push(len, n);
  }
  return Buffer.concat(parts);
}

export function createH265PayloadReader(): PayloadReader {
  let fu: FuState | undefined;
  return {
    reset: () => {
      fu = undefined;
    },
    read(payload, maxNalBytes) {
      if (payload.length < 2) return 'short';
      const t = hevcType(payload);
      if (t === HEVC_FU) {
        if (payload.length < 4) return 'short';
        const h = payload[2]!;
        const r = fuStep(
          fu,
          (h & 0x80) !== 0,
          (h & 0x40) !== 0,
          () => Buffer.from([(payload[0]! & 0x81) | ((h & 0x3f) << 1), payload[1]!]),
          payload.subarray(3),
          maxNalBytes,
        );
        fu = r.fu;
        return r.out;
      }
      if (fu) {
        fu = undefined;
        return 'fu-without-end';
      }
      if (t < HEVC_AP) return [payload];
      if (t === HEVC_AP) return splitAggregate(payload, 2, 2) ?? 'ap-length';
      // 50 (PACI) and 51..63 are not used by the senders here.
      return 'unsupported-type';
    },
  };
}

export function createH265Depacketizer(limits?: DepacketizerLimits): Depacketizer {
  return createAccessUnitDepacketizer(createH265PayloadReader(), limits);
}
