// The gateway's side of an RTSP camera: rtsp/client.ts reads the stream (RFC 2326, TCP
// interleaved), rtsp/rtph264.ts and rtph265.ts depacketize RTP into access units, and this keeps
// only the keyframes of an H.264 or H.265 stream, handed out in Annex-B, so the gateway's decoders
// never see the P frames, the network or RTSP. Failures end the client with a reason
// (unauthorized / unreachable / stalled / closed); the supervisor decides about retries.
import { startClient, type ClientCloseKind, type PlayInfo } from '../../../rtsp/client.ts';
import type { AccessUnitOut, Depacketizer } from '../../../rtsp/depacketizer.ts';
import { NAL_IDR, NAL_PPS, NAL_SLICE, NAL_SPS, nalType } from '../../../rtsp/h264.ts';
import type { RtpHeader } from '../../../rtsp/rtp.ts';
import { createH264Depacketizer, FU_A, STAP_A } from '../../../rtsp/rtph264.ts';
import { createH265Depacketizer } from '../../../rtsp/rtph265.ts';
import { readSdp, resolveControl, type SessionDescription } from '../../../rtsp/sdp.ts';
import { buildHevcKeyframe, hasIrap, isHevcSkippable } from './hevc-keyframe.ts';
import { toAnnexB } from './annexb.ts';

export { parseTarget } from '../../../rtsp/client.ts';

export type StreamCodec = 'h264' | 'h265';

export interface RtspClientOptions {
  /** rtsp://[user:pass@]host[:port]/path; credentials are used only to answer a Digest challenge. */
  url: string;
  /** TCP connect + OPTIONS..PLAY must finish within this (default 10 s). */
  setupTimeoutMs?: number;
  /** No RTP packet for this long after PLAY: the camera is stalled (default 5 s). */
  mediaTimeoutMs?: number;
  /** An access unit larger than this is dropped (default 4 MiB): bounds reassembly memory. */
  maxAuBytes?: number;
  /**
   * Keep the GOP so far (the keyframe and every picture since, Annex-B) for a catch-up decode on
   * activity onset: P pictures are then reassembled too. Bounded by maxGopBytes (default 2 MiB).
   */
  keepGop?: boolean;
  maxGopBytes?: number;
  userAgent?: string;
}

export type CloseKind = ClientCloseKind;

export interface KeyframeUnit {
  /** Annex-B (4-byte start codes), parameter sets first: decodable on its own. */
  data: Buffer;
  codec: StreamCodec;
  /** RTP timestamp (90 kHz). */
  rtpTs: number;
  /** Wall-clock ms when the unit's last packet arrived. */
  arrivedAt: number;
}

export interface RtspClientEvents {
  onPlaying?(): void;
  onKeyframe(au: KeyframeUnit): void;
  /**
   * A non-IDR picture went by (not reassembled): its RTP payload bytes. What the activity gate
   * reads; bytes of a picture broken by a sequence gap count as far as they came.
   */
  onDelta?(bytes: number, rtpTs: number): void;
  /** Called exactly once, also after close() (kind 'closed'). */
  onClose(kind: CloseKind, detail: string): void;
}

export interface RtspClientStats {
  packets: number;
  bytes: number;
  keyframes: number;
  /** RTP sequence gaps; the access unit in progress is dropped (an IDR decodes only whole). */
  seqGaps: number;
  /** IDR units dropped: a gap, oversize, or not exactly one IDR picture. */
  droppedUnits: number;
}

/** The current GOP: its keyframe first, then each picture since, every one Annex-B. */
export interface GopUnits {
  codec: StreamCodec;
  units: Buffer[];
  /** Arrival of the newest picture's last packet. */
  arrivedAt: number;
}

export interface RtspClient {
  stats(): RtspClientStats;
  /** With keepGop: the GOP so far, or undefined (none yet, or broken by a loss or its size). */
  gop(): GopUnits | undefined;
  /** TEARDOWN (best effort), then the socket is destroyed; bounded by ~500 ms. */
  close(): Promise<void>;
}

/** Parsed pieces of the DESCRIBE answer that the client needs. */
export interface SdpInfo {
  control: string;
  codec: StreamCodec;
  vps?: Buffer;
  sps?: Buffer;
  pps?: Buffer;
}

/** The first video media's codec and parameter sets (H.264 when it does not say), control resolved. */
export function sdpInfo(d: SessionDescription, base: string): SdpInfo {
  const v = d.video[0];
  const out: SdpInfo = { control: resolveControl(v?.control ?? d.control, base), codec: 'h264' };
  if (v?.codec === 'h265') {
    out.codec = 'h265';
    for (const k of ['vps', 'sps', 'pps'] as const) {
      const nal = v[k];
      if (nal && nal.length >= 2) out[k] = nal;
    }
    return out;
  }
  for (const nal of v?.parameterSets ?? []) {
    if (nalType(nal) === NAL_SPS) out.sps ??= nal;
    else if (nalType(nal) === NAL_PPS) out.pps ??= nal;
  }
  return out;
}

export const parseSdp = (sdp: string, base: string): SdpInfo => sdpInfo(readSdp(sdp), base);

/**
 * Builds the Annex-B keyframe from one access unit's NAL units, or undefined when it is not
 * exactly one IDR picture. The decoder pool maps one written unit to one output frame, so a unit
 * that could decode to zero or two pictures (a P slice, a second first_mb_in_slice == 0 slice, as
 * a corrupted slice header gives) must not reach it.
 */
export function buildKeyframe(
  nals: readonly Buffer[],
  sps: Buffer | undefined,
  pps: Buffer | undefined,
): Buffer | undefined {
  let pictures = 0;
  let hasSps = false;
  let hasPps = false;
  let firstVcl = true;
  for (const nal of nals) {
    const t = nalType(nal);
    if (t === NAL_SPS) hasSps = true;
    else if (t === NAL_PPS) hasPps = true;
    else if (t === NAL_SLICE || (t >= 2 && t <= 4)) return undefined;
    else if (t === NAL_IDR) {
      if (nal.length < 2) return undefined;
      // first_mb_in_slice is the first ue(v) of the slice header: a leading 1 bit means 0.
      const starts = ((nal[1] ?? 0) & 0x80) !== 0;
      if (starts) pictures++;
      else if (firstVcl) return undefined;
      firstVcl = false;
    }
  }
  if (pictures !== 1) return undefined;
  // RFC 6184 8.2.1: out-of-band parameter sets apply when the unit does not carry its own.
  const pre: Buffer[] = [];
  if (!hasSps) {
    if (!sps) return undefined;
    pre.push(sps);
  }
  if (!hasPps) {
    if (!pps) return undefined;
    pre.push(pps);
  }
  return toAnnexB([...pre, ...nals]);
}

/** A non-IDR slice (single NAL or the FU-A fragment's type; RFC 6184 5.6, 5.8): a picture we do not decode. */
function isH264Delta(payload: Buffer): boolean {
  const t = (payload[0] ?? 0) & 0x1f;
  const inner = t === FU_A ? (payload[1] ?? 0) & 0x1f : t === STAP_A ? NAL_IDR : t;
  return inner === NAL_SLICE || (inner >= 2 && inner <= 4);
}

export function startRtspClient(o: RtspClientOptions, ev: RtspClientEvents): RtspClient {
  const stats: RtspClientStats = { packets: 0, bytes: 0, keyframes: 0, seqGaps: 0, droppedUnits: 0 };
  const keepGop = o.keepGop ?? false;
  const maxGop = o.maxGopBytes ?? 2 * 1024 * 1024;
  let media: SdpInfo = { control: '', codec: 'h264' };
  let dep: Depacketizer | undefined;
  let gop: (GopUnits & { bytes: number }) | undefined;
  /** Payload bytes of the picture at unitTs, and whether it is a non-IDR one still to be reported. */
  let unitTs = -1;
  let unitBytes = 0;
  let unitDelta = false;

  const safe = (f: () => void): void => {
    try {
      f();
    } catch {
      // the listener's problem
    }
  };

  function reportDelta(): void {
    if (!unitDelta) return;
    unitDelta = false;
    safe(() => ev.onDelta?.(unitBytes, unitTs));
  }

  function finishAu(au: AccessUnitOut, arrivedAt: number): void {
    const { nals, ts } = au;
    const codec = media.codec;
    const idr = codec === 'h265' ? hasIrap(nals) : nals.some((n) => nalType(n) === NAL_IDR);
    if (!idr) {
      if (!gop) return;
      const unit = toAnnexB(nals);
      gop.bytes += unit.length;
      gop.units.push(unit);
      gop.arrivedAt = arrivedAt;
      if (gop.bytes > maxGop) gop = undefined;
      return;
    }
    const data =
      codec === 'h265' ? buildHevcKeyframe(nals, media) : buildKeyframe(nals, media.sps, media.pps);
    gop = undefined;
    if (!data) {
      stats.droppedUnits++;
      return;
    }
    stats.keyframes++;
    if (keepGop) gop = { codec, units: [data], arrivedAt, bytes: data.length };
    safe(() => ev.onKeyframe({ data, codec, rtpTs: ts, arrivedAt }));
  }

  function onPlaying(info: PlayInfo): void {
    media = sdpInfo(info.description, info.base);
    const limits = { maxAuBytes: o.maxAuBytes ?? 4 * 1024 * 1024 };
    dep = media.codec === 'h265' ? createH265Depacketizer(limits) : createH264Depacketizer(limits);
    safe(() => ev.onPlaying?.());
  }

  function onRtp(h: RtpHeader, pkt: Buffer): void {
    if (!dep) return;
    const now = Date.now();
    stats.packets++;
    stats.bytes += pkt.length;
    const payload = pkt.subarray(h.payloadOffset);
    // Cheap test on the packet before reassembly: a P picture is not reassembled at all unless a
    // GOP is kept (RFC 6184 5.6, 5.8; RFC 7798 4.4.1, 4.4.3).
    const delta = media.codec === 'h265' ? isHevcSkippable(payload) : isH264Delta(payload);
    const r = dep.push({ seq: h.seq, ts: h.ts, marker: h.marker, payload }, delta && !gop);
    // A new timestamp starts the next unit even when the previous marker packet was lost (RFC 6184 5.1).
    if (r.flushed) finishAu(r.flushed, now);
    if (h.ts !== unitTs) {
      reportDelta();
      unitTs = h.ts;
      unitBytes = 0;
    }
    unitBytes += payload.length;
    if (delta) unitDelta = true;
    if (r.kind === 'au') finishAu(r, now);
    else if (r.kind === 'drop') {
      if (r.reason === 'sequence-gap') {
        stats.seqGaps++;
        gop = undefined; // the pictures after it reference what was lost
      }
      if (r.lostBytes > 0 || r.reason !== 'sequence-gap') stats.droppedUnits++;
    }
    if (h.marker) reportDelta();
  }

  const client = startClient(
    {
      url: o.url,
      userAgent: o.userAgent ?? 'facegate-ingest',
      ...(o.setupTimeoutMs !== undefined ? { setupTimeoutMs: o.setupTimeoutMs } : {}),
      ...(o.mediaTimeoutMs !== undefined ? { mediaTimeoutMs: o.mediaTimeoutMs } : {}),
    },
    { onPlaying, onRtp, onClose: (kind, detail) => ev.onClose(kind, detail) },
  );

  return {
    stats: () => ({ ...stats }),
    gop: () => (gop ? { codec: gop.codec, units: [...gop.units], arrivedAt: gop.arrivedAt } : undefined),
    close: () => client.close(),
  };
}
