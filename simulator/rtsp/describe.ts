// The simulator's DESCRIBE answer: a clip's parameters in the terms of rtsp/sdp.ts.
import { writeSdp, type SdpVideo } from '../../rtsp/sdp.ts';
import { RTP_CLOCK, RTP_PT } from '../../rtsp/rtp.ts';
import type { LoadedClip } from './clip.ts';

export const TRACK_CONTROL = 'trackID=0';

const nal = (b64: string): Buffer => Buffer.from(b64, 'base64');

export function clipVideo(clip: LoadedClip): SdpVideo {
  const video: SdpVideo = {
    payloadType: RTP_PT,
    codec: clip.hevc ? 'h265' : 'h264',
    clockRate: RTP_CLOCK,
    bandwidthKbps: Math.ceil((clip.bytes * 8 * clip.fps) / Math.max(1, clip.frames.length) / 1000),
    framerate: clip.fps,
    width: clip.width,
    height: clip.height,
    control: TRACK_CONTROL,
  };
  if (clip.hevc)
    return { ...video, vps: nal(clip.hevc.vps), sps: nal(clip.hevc.sps), pps: nal(clip.hevc.pps) };
  return {
    ...video,
    packetizationMode: 1,
    profileLevelId: clip.profileLevelId,
    parameterSets: clip.spropParameterSets.split(',').map(nal),
  };
}

export function buildSdp(clip: LoadedClip, cameraId: string, host: string): string {
  return writeSdp({
    sessionId: String(clip.index + 1),
    host,
    name: `facegate camera ${cameraId}`,
    // Live: clients must not expect to seek (RFC 2326 C.1.5).
    control: '*',
    live: true,
    video: [clipVideo(clip)],
  });
}
