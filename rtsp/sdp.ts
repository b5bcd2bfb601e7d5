// Session description for one camera (RFC 4566, RFC 6184 8.2.1 / RFC 7798 7.2.1, RFC 2326 C.1).
import type { LoadedClip } from './clip.ts';
import { RTP_PT } from './rtp.ts';

export const TRACK_CONTROL = 'trackID=0';

export function buildSdp(clip: LoadedClip, cameraId: string, host: string): string {
  const kbps = Math.ceil((clip.bytes * 8 * clip.fps) / Math.max(1, clip.frames.length) / 1000);
  const ipv = host.includes(':') ? 'IP6' : 'IP4';
  return [
    'v=0',
    `o=- ${clip.index + 1} 1 IN ${ipv} ${host}`,
    `s=facegate camera ${cameraId}`,
    `c=IN ${ipv} ${ipv === 'IP6' ? '::' : '0.0.0.0'}`,
    't=0 0',
    'a=tool:facegate',
    'a=type:broadcast',
    'a=control:*',
    // Live: clients must not expect to seek (RFC 2326 C.1.5).
    'a=range:npt=now-',
    `m=video 0 RTP/AVP ${RTP_PT}`,
    `b=AS:${kbps}`,
    ...(clip.hevc
      ? [
          // RFC 7798 7.1 / 7.2.1: parameter sets out of band, in the order VPS, SPS, PPS.
          `a=rtpmap:${RTP_PT} H265/90000`,
          `a=fmtp:${RTP_PT} sprop-vps=${clip.hevc.vps};sprop-sps=${clip.hevc.sps};sprop-pps=${clip.hevc.pps}`,
        ]
      : [
          `a=rtpmap:${RTP_PT} H264/90000`,
          `a=fmtp:${RTP_PT} packetization-mode=1;profile-level-id=${clip.profileLevelId};sprop-parameter-sets=${clip.spropParameterSets}`,
        ]),
    `a=framerate:${clip.fps}`,
    `a=framesize:${RTP_PT} ${clip.width}-${clip.height}`,
    `a=x-dimensions:${clip.width},${clip.height}`,
    `a=control:${TRACK_CONTROL}`,
    '',
  ].join('\r\n');
}
