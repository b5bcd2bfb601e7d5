// H.265 (HEVC) for the RTSP side: Annex-B access units (ITU-T H.265 7.4.2.4.4) and RTP per
// RFC 7798: single NAL unit packets (4.4.1), fragmentation units (4.4.3), aggregation packets
// read only (4.4.2). VPS, SPS and PPS go in the SDP (sprop-vps/sps/pps, 7.1) and before every IRAP.
// Views into the one loaded file, as in h264.ts: nothing here copies video bytes but FUs.
import { splitAnnexB, type AccessUnit } from './h264.ts';
import type { RtpFrame } from './rtp.ts';

export const HEVC_VPS = 32;
export const HEVC_SPS = 33;
export const HEVC_PPS = 34;
export const HEVC_AUD = 35;
export const HEVC_SEI_PREFIX = 39;
export const HEVC_AP = 48;
export const HEVC_FU = 49;

export interface HevcStream {
  units: AccessUnit[];
  vps: Buffer;
  sps: Buffer;
  pps: Buffer;
}

export function hevcType(nal: Buffer): number {
  return ((nal[0] ?? 0) >> 1) & 0x3f;
}

/** VCL NAL unit types are 0..31; IRAP pictures (BLA, IDR, CRA) are 16..23. */
export const isVcl = (t: number): boolean => t < 32;
export const isIrap = (t: number): boolean => t >= 16 && t <= 23;

/** first_slice_segment_in_pic_flag: the first bit after the 2-byte NAL header. */
export function firstSliceInPic(nal: Buffer): boolean {
  return ((nal[2] ?? 0) & 0x80) !== 0;
}

/**
 * Groups NAL units into access units. A new AU starts at a slice with first_slice_segment_in_pic_flag
 * or at a prefix non-VCL NAL (VPS, SPS, PPS, AUD, prefix SEI, 41..44, 48..55) after a picture's
 * slices (7.4.2.4.4). Parameter sets are kept aside like SPS/PPS in h264.ts.
 */
export function parseHevc(buf: Buffer): HevcStream {
  const units: AccessUnit[] = [];
  let vps: Buffer | undefined;
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let cur: AccessUnit | undefined;
  let pending: Buffer[] = [];
  const finish = (): void => {
    if (cur) units.push(cur);
    cur = undefined;
  };
  for (const nal of splitAnnexB(buf)) {
    if (nal.length < 2) continue;
    const t = hevcType(nal);
    if (isVcl(t)) {
      if (!cur || firstSliceInPic(nal)) {
        finish();
        cur = { nals: pending, idr: false };
        pending = [];
      }
      cur.nals.push(nal);
      if (isIrap(t)) cur.idr = true;
      continue;
    }
    const suffix = t === 40 || (t >= 45 && t <= 47) || (t >= 56 && t <= 63);
    if (suffix && cur) {
      cur.nals.push(nal);
      continue;
    }
    finish();
    if (t === HEVC_VPS) vps ??= nal;
    else if (t === HEVC_SPS) sps ??= nal;
    else if (t === HEVC_PPS) pps ??= nal;
    else if (t !== HEVC_AUD) pending.push(nal);
  }
  finish();
  if (!vps || !sps || !pps) throw new Error('H.265 stream has no VPS/SPS/PPS');
  if (units.length === 0) throw new Error('H.265 stream has no pictures');
  return { units, vps, sps, pps };
}

/** RFC 7798 4.4.1 single NAL unit packets up to maxPayload, 4.4.3 FUs beyond; VPS/SPS/PPS before IRAPs. */
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

export interface HevcDepacketizer {
  /** NAL units completed by this payload (none while an FU is incomplete or the payload is bad). */
  push(payload: Buffer): Buffer[];
}

/**
 * RFC 7798 depacketization: single NAL units, APs (4.4.2, no DONL: sprop-max-don-diff is 0) and FUs.
 * Never throws; bounded by the FU it holds (the caller bounds the access unit).
 */
export function createHevcDepacketizer(): HevcDepacketizer {
  let fu: Buffer[] | undefined;
  return {
    push(payload) {
      if (payload.length < 3) return [];
      const t = hevcType(payload);
      if (t === HEVC_FU) {
        const s = (payload[2]! & 0x80) !== 0;
        const e = (payload[2]! & 0x40) !== 0;
        if (s) fu = [Buffer.from([(payload[0]! & 0x81) | ((payload[2]! & 0x3f) << 1), payload[1]!])];
        if (!fu) return [];
        fu.push(payload.subarray(3));
        if (!e) return [];
        const nal = Buffer.concat(fu);
        fu = undefined;
        return [nal];
      }
      fu = undefined;
      if (t === HEVC_AP) {
        const out: Buffer[] = [];
        for (let off = 2; off + 2 <= payload.length; ) {
          const n = payload.readUInt16BE(off);
          if (n < 2 || off + 2 + n > payload.length) break;
          out.push(payload.subarray(off + 2, off + 2 + n));
          off += 2 + n;
        }
        return out;
      }
      // 50 (PACI) and 51..63 are not used by our senders: ignored.
      return t < 48 ? [payload] : [];
    },
  };
}
