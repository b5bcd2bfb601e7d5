// A scene clip loaded into memory once: parsed, packetized, ready to be shared by all cameras.
import { readFile } from 'node:fs/promises';
import type { SceneClip, VideoCodec } from '../scenes/types.ts';
import { parseAnnexB, profileLevelId } from '../../rtsp/h264.ts';
import { parseHevc } from '../../rtsp/h265.ts';
import { packetizeUnit } from '../../rtsp/rtph264.ts';
import { packetizeHevcUnit } from '../../rtsp/rtph265.ts';
import type { RtpFrame } from '../../rtsp/rtp.ts';

export interface LoadedClip {
  index: number;
  width: number;
  height: number;
  fps: number;
  frames: RtpFrame[];
  /** For each frame index, the index of the first IDR at or after it (wrapping at the end). */
  nextIdr: Int32Array;
  /** Absent means H.264. */
  codec?: VideoCodec;
  /** RFC 6184 8.1 fmtp values (H.264; empty for H.265). */
  spropParameterSets: string;
  profileLevelId: string;
  /** RFC 7798 7.1 sprop-vps, sprop-sps, sprop-pps (base64), for H.265. */
  hevc?: { vps: string; sps: string; pps: string };
  /** Sum of payload bytes over the clip, for bitrate in the SDP. */
  bytes: number;
}

export type ClipSource = Pick<SceneClip, 'index' | 'file' | 'width' | 'height' | 'fps'> & {
  codec?: VideoCodec;
};

export async function loadClip(src: ClipSource, maxPayload = 1200): Promise<LoadedClip> {
  return clipFromBuffer(src, await readFile(src.file), maxPayload);
}

export function clipFromBuffer(src: Omit<ClipSource, 'file'>, data: Buffer, maxPayload = 1200): LoadedClip {
  if (src.codec === 'h265') {
    const p = parseHevc(data);
    const ps = [p.vps, p.sps, p.pps];
    const b64 = (b: Buffer): string => b.toString('base64');
    return finish(
      src,
      p.units.map((u) => packetizeHevcUnit(u, ps, maxPayload)),
      {
        codec: 'h265',
        spropParameterSets: '',
        profileLevelId: '',
        hevc: { vps: b64(p.vps), sps: b64(p.sps), pps: b64(p.pps) },
      },
    );
  }
  const parsed = parseAnnexB(data);
  return finish(
    src,
    parsed.units.map((u) => packetizeUnit(u, parsed.sps, parsed.pps, maxPayload)),
    {
      codec: 'h264',
      spropParameterSets: `${parsed.sps.toString('base64')},${parsed.pps.toString('base64')}`,
      profileLevelId: profileLevelId(parsed.sps),
    },
  );
}

function finish(
  src: Omit<ClipSource, 'file'>,
  frames: RtpFrame[],
  params: Pick<LoadedClip, 'codec' | 'spropParameterSets' | 'profileLevelId' | 'hevc'>,
): LoadedClip {
  if (!frames[0]?.idr) throw new Error(`clip ${src.index}: does not start on an IDR frame`);
  const nextIdr = new Int32Array(frames.length);
  let next = 0; // wraps to the clip's first frame, an IDR
  for (let i = frames.length - 1; i >= 0; i--) {
    if (frames[i]!.idr) next = i;
    nextIdr[i] = next;
  }
  let bytes = 0;
  for (const f of frames) bytes += f.bytes;
  return {
    index: src.index,
    width: src.width,
    height: src.height,
    fps: src.fps,
    frames,
    nextIdr,
    ...params,
    bytes,
  };
}
