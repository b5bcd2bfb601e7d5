// What a pooled keyframe decoder is given besides the cameras' units: the access unit delimiter
// that ends each unit, the sync unit whose unmistakable picture brings a decoder back in step, and
// the ffmpeg command line (Annex-B on stdin, one raw RGB frame per picture on stdout).
import { commandArgs, ffmpegCommand, passthroughTiming, type FfmpegBinary } from '../../../shared/ffmpeg.ts';

// H.264 7.3.2.4: an access unit delimiter (primary_pic_type 7: any slice type). Written after each
// unit: ffmpeg's h264 parser ends a picture only when it sees the start of the next unit, so
// without it each frame would wait for the next keyframe (seconds) and stop-and-wait would stall.
export const H264_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
// A 16x16 IDR of uniform magenta (x264 ultrafast, constrained baseline, SEI removed), which
// decodes and scales to RGB ~(253, 0, 252) everywhere. No camera shows a uniform magenta picture,
// so the frame is recognized for sure; in normal operation such a frame is a desync, never delivered.
export const H264_SYNC_UNIT = Buffer.from(
  '000000016742c00ada7b011000000300100000030028f1226a0000000168ce0fc80000016588843a118a00020971c00042523800086360',
  'hex',
);
// The same for H.265: an access unit delimiter (H.265 7.3.2.5, type 35, pic_type 2: any slice), and
// a 16x16 magenta IDR (x265 ultrafast, info SEI off) with its VPS, SPS and PPS.
export const HEVC_AUD = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);
export const HEVC_SYNC_UNIT = Buffer.from(
  '0000000140010c01ffff01600000030090000003000003001e9594090000000142010101600000030090000003000003001ea08845965655bc2f016808000003000800000300c840000000014401c073c0890000012801ac7627fbfa1eec3482914c',
  'hex',
);
/** Uniform ~(253, 0, 252): the sync unit's picture (sampled; tolerant of scaler rounding). */
export function isSyncFrame(rgb: Buffer): boolean {
  const px = Math.floor(rgb.length / 3);
  for (let k = 0; k < 64; k++) {
    const i = Math.floor(((k + 0.5) * px) / 64) * 3;
    const r = rgb[i] ?? 0;
    const g = rgb[i + 1] ?? 255;
    const b = rgb[i + 2] ?? 0;
    if (r < 235 || g > 20 || b < 235) return false;
  }
  return true;
}

export function decoderArgs(
  bin: FfmpegBinary,
  width: number,
  height: number,
  codec: 'h264' | 'h265' = 'h264',
): string[] {
  const cmd = ffmpegCommand(bin);
  cmd
    .input('pipe:0')
    .inputFormat(codec === 'h265' ? 'hevc' : 'h264')
    .inputOptions([
      // One thread: frame threads would hold frames back (and cost 6-10 MB each); low_delay makes
      // the decoder output each picture at once (no reorder wait: our streams have no B-frames).
      '-threads',
      '1',
      '-flags',
      'low_delay',
      // Probe the first unit only: waiting for more would hold the first frame hostage.
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
    ]);
  cmd.output('pipe:1').outputOptions([
    '-map',
    '0:v:0',
    // fast_bilinear: the analysis size is small (see ../ffmpeg/args.ts). Input resolution may
    // change between units (cameras differ): ffmpeg reconfigures the filter graph, output stays fixed.
    '-vf',
    `scale=${width}:${height}:flags=fast_bilinear`,
    ...passthroughTiming(bin),
    '-pix_fmt',
    'rgb24',
    // The rawvideo encoder is frame-threaded: with more threads it holds frames back.
    '-threads',
    '1',
    '-f',
    'rawvideo',
  ]);
  return ['-loglevel', 'error', '-nostats', ...commandArgs(cmd)];
}
