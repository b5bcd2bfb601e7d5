// Encoder settings of the clips: what a camera sends. No B-frames, a closed GOP of fixed length,
// parameter sets repeated before every keyframe (any keyframe is an entry point for the replay).
import type { VideoCodec } from './types.ts';

export function encoderOptions(codec: VideoCodec, gopFrames: number): string[] {
  const g = String(gopFrames);
  if (codec === 'h265')
    return [
      '-c:v',
      'libx265',
      // ultrafast: x265 is ~5x slower than x264 at the same preset; the picture is still fine at 640x360.
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      '-crf',
      '28',
      '-x265-params',
      [
        'bframes=0',
        `keyint=${g}`,
        `min-keyint=${g}`,
        'scenecut=0',
        'open-gop=0',
        'repeat-headers=1',
        // One thread like the x264 encodes: rendering shares the machine with everything else.
        'pools=1',
        'frame-threads=1',
        'info=0',
        'log-level=error',
        'vbv-maxrate=600',
        'vbv-bufsize=1200',
      ].join(':'),
    ];
  return [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-profile:v',
    'main',
    '-pix_fmt',
    'yuv420p',
    '-bf',
    '0',
    '-g',
    g,
    '-keyint_min',
    g,
    '-sc_threshold',
    '0',
    '-x264-params',
    'repeat-headers=1:open-gop=0',
    '-crf',
    '25',
    '-maxrate',
    '600k',
    '-bufsize',
    '1200k',
    '-threads',
    '1',
  ];
}
