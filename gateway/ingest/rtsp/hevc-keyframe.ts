// The H.265 side of the node ingest: which packets belong to pictures we skip, and an IRAP access
// unit made decodable on its own (Annex-B, VPS/SPS/PPS first), as buildKeyframe does for H.264.
import {
  firstSliceInPic,
  HEVC_AP,
  HEVC_FU,
  HEVC_PPS,
  HEVC_SPS,
  HEVC_VPS,
  hevcType,
  isIrap,
  isVcl,
} from '../../../rtsp/h265.ts';
import { toAnnexB } from './annexb.ts';

/** True when an RTP payload carries (the start of) a non-IRAP slice: a picture we do not decode. */
export function isHevcSkippable(payload: Buffer): boolean {
  if (payload.length < 3) return false;
  const t = hevcType(payload);
  const inner = t === HEVC_FU ? payload[2]! & 0x3f : t;
  if (t === HEVC_AP) return false; // only parameter sets come aggregated in practice; judged after
  return isVcl(inner) && !isIrap(inner);
}

export function hasIrap(nals: readonly Buffer[]): boolean {
  return nals.some((n) => n.length >= 2 && isIrap(hevcType(n)));
}

/**
 * Annex-B of one IRAP picture with its parameter sets, or undefined unless the unit is exactly one
 * IRAP picture (the decoder pool maps one unit to one frame). Out-of-band sets (RFC 7798 7.1 sprop)
 * apply when the unit does not carry its own.
 */
export function buildHevcKeyframe(
  nals: readonly Buffer[],
  sets: { vps?: Buffer | undefined; sps?: Buffer | undefined; pps?: Buffer | undefined },
): Buffer | undefined {
  let pictures = 0;
  let firstVcl = true;
  const has = { vps: false, sps: false, pps: false };
  for (const nal of nals) {
    if (nal.length < 2) return undefined;
    const t = hevcType(nal);
    if (t === HEVC_VPS) has.vps = true;
    else if (t === HEVC_SPS) has.sps = true;
    else if (t === HEVC_PPS) has.pps = true;
    else if (isVcl(t)) {
      if (!isIrap(t) || nal.length < 3) return undefined;
      if (firstSliceInPic(nal)) pictures++;
      else if (firstVcl) return undefined;
      firstVcl = false;
    }
  }
  if (pictures !== 1) return undefined;
  const pre: Buffer[] = [];
  for (const k of ['vps', 'sps', 'pps'] as const) {
    if (has[k]) continue;
    const b = sets[k];
    if (!b) return undefined;
    pre.push(b);
  }
  return toAnnexB([...pre, ...nals]);
}
