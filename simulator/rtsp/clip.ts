// A scene clip loaded into memory once: parsed, packetized, ready to be shared by all cameras.
import { readFile } from 'node:fs/promises';
import type { SceneClip } from '../scenes/types.ts';
import { parseAnnexB, profileLevelId } from './h264.ts';
import { packetizeUnit, type RtpFrame } from './rtp.ts';

export interface LoadedClip {
  index: number;
  width: number;
  height: number;
  fps: number;
  frames: RtpFrame[];
  /** For each frame index, the index of the first IDR at or after it (wrapping at the end). */
  nextIdr: Int32Array;
  /** RFC 6184 8.1 fmtp values. */
  spropParameterSets: string;
  profileLevelId: string;
  /** Sum of payload bytes over the clip, for bitrate in the SDP. */
  bytes: number;
}

export type ClipSource = Pick<SceneClip, 'index' | 'file' | 'width' | 'height' | 'fps'>;

export async function loadClip(src: ClipSource, maxPayload = 1200): Promise<LoadedClip> {
  return clipFromBuffer(src, await readFile(src.file), maxPayload);
}

export function clipFromBuffer(src: Omit<ClipSource, 'file'>, data: Buffer, maxPayload = 1200): LoadedClip {
  const parsed = parseAnnexB(data);
  const frames = parsed.units.map((u) => packetizeUnit(u, parsed.sps, parsed.pps, maxPayload));
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
    spropParameterSets: `${parsed.sps.toString('base64')},${parsed.pps.toString('base64')}`,
    profileLevelId: profileLevelId(parsed.sps),
    bytes,
  };
}
