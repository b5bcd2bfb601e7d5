// Pure: the ffmpeg argument list for one decoder process (one or many cameras). Tests assert the
// exact lists, as Frigate does, because a flag in the wrong place silently costs CPU or frames.
import { ffmpegCommand, commandArgs, passthroughTiming, type FfmpegBinary } from '../../../shared/ffmpeg.ts';

export type DecodeMode = { kind: 'keyframes' } | { kind: 'fps'; fps: number };

/** `keyframes` or `fps:<n>` (the config schema validates the same shape). */
export function parseMode(s: string): DecodeMode {
  if (s === 'keyframes') return { kind: 'keyframes' };
  const m = /^fps:(\d+(?:\.\d+)?)$/.exec(s);
  const fps = m ? Number(m[1]) : NaN;
  if (!(fps > 0)) throw new Error(`decode mode must be keyframes or fps:<n>, got ${JSON.stringify(s)}`);
  return { kind: 'fps', fps };
}

/** What the binary accepts (decoderCaps). */
export interface DecoderCaps {
  /** ffmpeg >= 5 names the RTSP socket timeout `-timeout`; older builds `-stimeout` (there `-timeout` means *listen*). */
  socketTimeoutFlag: '-timeout' | '-stimeout';
  /** `-fps_mode passthrough` or `-vsync 0`. */
  passthrough: string[];
}

export interface ArgsOptions {
  mode: DecodeMode;
  width: number;
  height: number;
  /** RTSP socket I/O timeout: a silent server fails the input instead of hanging it. */
  socketTimeoutMs: number;
  /**
   * Probe each input (avformat_find_stream_info) before decoding. Off by default: ffmpeg opens
   * inputs one after another and a probe waits for media, which a camera starting each session
   * on its next keyframe sends up to a GOP later: 16 inputs took 30 s to open with a probe and
   * 0.1 s without. SPS/PPS come from the SDP or in-band before each IDR, so nothing is missing.
   */
  probe: boolean;
  /** Probing limit per input when `probe` is on. */
  analyzeDurationMs: number;
  /** 'stretch' fills width x height (the Frame contract); 'pad' keeps the aspect ratio, letterboxed. */
  fit: 'stretch' | 'pad';
}

export const defaultArgsOptions = {
  socketTimeoutMs: 5000,
  probe: false,
  analyzeDurationMs: 250,
  fit: 'stretch',
} as const satisfies Partial<ArgsOptions>;

export function decoderCaps(bin: FfmpegBinary): DecoderCaps {
  const major = /^(\d+)\./.exec(bin.version)?.[1];
  // Release builds >= 5 dropped -stimeout; git builds ("N-...") are the 2018 static one here.
  return {
    socketTimeoutFlag: major !== undefined && Number(major) >= 5 ? '-timeout' : '-stimeout',
    passthrough: passthroughTiming(bin),
  };
}

function videoFilter(o: ArgsOptions): string {
  // fast_bilinear: the analysis size is small; bicubic costs ~30 % more for nothing a detector sees.
  const scale =
    o.fit === 'pad'
      ? `scale=${o.width}:${o.height}:force_original_aspect_ratio=decrease:flags=fast_bilinear,pad=${o.width}:${o.height}:(ow-iw)/2:(oh-ih)/2`
      : `scale=${o.width}:${o.height}:flags=fast_bilinear`;
  // fps before scale: only the kept frames are scaled.
  return o.mode.kind === 'fps' ? `fps=${o.mode.fps},${scale}` : scale;
}

/**
 * Arguments (after spawnFfmpeg's own `-hide_banner -nostdin`) for cameras urls[0..n-1]; camera i's
 * raw RGB24 frames go to file descriptor 3 + i.
 */
export function buildDecoderArgs(
  bin: FfmpegBinary,
  caps: DecoderCaps,
  urls: readonly string[],
  o: ArgsOptions,
): string[] {
  const cmd = ffmpegCommand(bin);
  const inputOptions = [
    '-rtsp_transport',
    'tcp',
    caps.socketTimeoutFlag,
    String(o.socketTimeoutMs * 1000),
    ...(o.probe ? ['-analyzeduration', String(o.analyzeDurationMs * 1000)] : ['-nofind_stream_info']),
    // Decoder threads cost 10-15 % more CPU and 6-10 MB per input for nothing at this rate.
    '-threads',
    '1',
    ...(o.mode.kind === 'keyframes' ? ['-skip_frame', 'nokey'] : []),
  ];
  for (const url of urls) cmd.input(url).inputOptions(inputOptions);
  const vf = videoFilter(o);
  urls.forEach((_url, i) => {
    cmd.output(`pipe:${3 + i}`).outputOptions([
      '-map',
      `${i}:v:0`,
      '-vf',
      vf,
      // Without passthrough, rawvideo output repeats keyframes to a constant rate (599 frames from 30).
      ...caps.passthrough,
      '-pix_fmt',
      'rgb24',
      '-f',
      'rawvideo',
    ]);
  });
  // Errors only: stderr is kept for classification (401, refused), and stats lines would flood it.
  return ['-loglevel', 'error', '-nostats', '-filter_threads', '1', ...commandArgs(cmd)];
}
