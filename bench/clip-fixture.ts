// A synthetic H.264 clip (ffmpeg testsrc) for tests and benchmarks, until rendered scenes exist.
// Same shape as the scene renderer's output: Annex-B, no B-frames, whole GOPs starting on an IDR.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface FixtureClip {
  index: number;
  file: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  gopFrames: number;
}

export function makeTestClip(
  dir: string,
  p: {
    width?: number;
    height?: number;
    fps?: number;
    seconds?: number;
    gopS?: number;
    index?: number;
    noise?: boolean;
    bitrateKbps?: number;
  } = {},
): FixtureClip {
  const width = p.width ?? 640;
  const height = p.height ?? 360;
  const fps = p.fps ?? 10;
  const seconds = p.seconds ?? 4;
  const gopFrames = Math.round((p.gopS ?? 1) * fps);
  const frames = seconds * fps;
  mkdirSync(dir, { recursive: true });
  // Noise coded losslessly: a high-bitrate clip that fills socket buffers fast (slow-client tests).
  // With a bitrate: moving pattern plus grain, so the encoder really spends it (a camera-like stream).
  const kbps = p.bitrateKbps;
  const src = p.noise
    ? `nullsrc=size=${width}x${height}:rate=${fps},geq=lum='random(1)*255':cb=128:cr=128`
    : kbps
      ? `testsrc2=size=${width}x${height}:rate=${fps},noise=alls=12:allf=t`
      : `testsrc=size=${width}x${height}:rate=${fps}`;
  const name = p.noise ? 'noise' : kbps ? `grain${kbps}k` : 'testsrc';
  const file = join(dir, `${name}-${width}x${height}-${fps}-${seconds}-${gopFrames}.h264`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    const r = spawnSync(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-y',
        '-f',
        'lavfi',
        '-i',
        src,
        '-t',
        String(seconds),
        ...(p.noise ? ['-qp', '0'] : []),
        ...(kbps ? ['-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${2 * kbps}k`] : []),
        '-c:v',
        'libx264',
        '-preset',
        'veryfast',
        '-bf',
        '0',
        '-g',
        String(gopFrames),
        '-keyint_min',
        String(gopFrames),
        '-sc_threshold',
        '0',
        '-pix_fmt',
        'yuv420p',
        '-threads',
        '1',
        '-f',
        'h264',
        tmp,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
    spawnSync('mv', [tmp, file]);
  }
  return { index: p.index ?? 0, file, width, height, fps, frames, gopFrames };
}
