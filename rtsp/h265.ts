// H.265 (HEVC) Annex-B access units (ITU-T H.265 7.4.2.4.4), as h264.ts does for H.264; RTP is in
// rtph265.ts. Views into the one loaded file: nothing here copies video bytes.
import { splitAnnexB, type AccessUnit } from './h264.ts';

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
