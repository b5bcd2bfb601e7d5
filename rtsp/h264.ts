// H.264 Annex-B parsing: split into NAL units once, group them into access units (pictures).
// Views (subarray) into the one loaded file: nothing here copies video bytes.

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

export interface AccessUnit {
  /** NAL units without start codes, in stream order (SPS/PPS of the file excluded). */
  nals: Buffer[];
  idr: boolean;
}

export interface ParsedStream {
  units: AccessUnit[];
  sps: Buffer;
  pps: Buffer;
}

export function nalType(nal: Buffer): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** Splits on 00 00 01 / 00 00 00 01 start codes (ITU-T H.264 Annex B.1). */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = -1;
  let i = 0;
  const n = buf.length;
  while (i + 2 < n) {
    // Fast skip: a start code needs buf[i+2] <= 1.
    const b2 = buf[i + 2]!;
    if (b2 > 1) {
      i += 3;
      continue;
    }
    if (buf[i] === 0 && buf[i + 1] === 0 && b2 === 1) {
      if (start >= 0) out.push(trimZeros(buf, start, i));
      start = i + 3;
      i += 3;
      continue;
    }
    i += 1;
  }
  if (start >= 0 && start < n) out.push(trimZeros(buf, start, n));
  return out.filter((nal) => nal.length > 0);
}

// The zero before a 4-byte start code (and trailing_zero_8bits) belongs to no NAL.
function trimZeros(buf: Buffer, start: number, end: number): Buffer {
  let e = end;
  while (e > start && buf[e - 1] === 0) e--;
  return buf.subarray(start, e);
}

/** first_mb_in_slice == 0 starts a new picture: the first ue(v) bit after the header is 1. */
function firstMbIsZero(nal: Buffer): boolean {
  return ((nal[1] ?? 0) & 0x80) !== 0;
}

/**
 * Groups NAL units into access units (H.264 7.4.1.2.3). A new AU starts at an AUD, SPS, PPS or
 * SEI after a picture's slices, or at a slice with first_mb_in_slice == 0. Parameter sets are
 * kept aside: the packetizer sends them before every IDR and the SDP carries them.
 */
export function parseAnnexB(buf: Buffer): ParsedStream {
  const units: AccessUnit[] = [];
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let cur: AccessUnit | undefined;
  let pending: Buffer[] = [];
  const finish = (): void => {
    if (cur) units.push(cur);
    cur = undefined;
  };
  for (const nal of splitAnnexB(buf)) {
    const t = nalType(nal);
    if (t === NAL_SLICE || t === NAL_IDR) {
      if (!cur || firstMbIsZero(nal)) {
        finish();
        cur = { nals: pending, idr: false };
        pending = [];
      }
      cur.nals.push(nal);
      if (t === NAL_IDR) cur.idr = true;
      continue;
    }
    // Any non-VCL NAL after a picture's slices ends that picture.
    finish();
    if (t === NAL_SPS) sps ??= nal;
    else if (t === NAL_PPS) pps ??= nal;
    else if (t !== NAL_AUD) pending.push(nal);
  }
  finish();
  if (!sps || !pps) throw new Error('H.264 stream has no SPS/PPS');
  if (units.length === 0) throw new Error('H.264 stream has no pictures');
  return { units, sps, pps };
}

/** RFC 6184 8.1: profile-level-id is the three bytes after the SPS NAL header, in hex. */
export function profileLevelId(sps: Buffer): string {
  return sps.subarray(1, 4).toString('hex').padEnd(6, '0');
}
