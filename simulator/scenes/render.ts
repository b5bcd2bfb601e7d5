// Renders the scene clips once with ffmpeg (libx264, Annex-B, no B-frames, whole GOPs) and caches them.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FfmpegBinary } from '../../shared/ffmpeg.ts';
import { ffmpegCommand } from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/log.ts';
import type { SceneClip, SceneSpec } from './types.ts';
import { assetPath, defaultAssetsDir } from './assets.ts';
import { commitCache, partialDir, readCache, removeStalePartials, specHash } from './cache.ts';
import { clipGraph } from './filtergraph.ts';
import { appearanceTruth, clipTiming, planClip } from './schedule.ts';

export interface SceneDeps {
  cacheDir: string;
  ffmpeg: FfmpegBinary;
  log: Logger;
  /** Frames rendered so far and in total, over all clips (called often; draw a bar with it). */
  onProgress?: (done: number, total: number) => void;
  /** Where the images live; default: the repository's assets/. */
  assetsDir?: string;
}

/** The clips of a spec (ground truth included, no video): pure, no ffmpeg. */
export function planScenes(spec: SceneSpec): SceneClip[] {
  const { gopFrames, frames, durationS } = clipTiming(spec);
  return Array.from({ length: spec.count }, (_, index) => {
    const plan = planClip(spec, index);
    return {
      index,
      file: clipFileName(index),
      width: spec.width,
      height: spec.height,
      fps: spec.fps,
      frames,
      gopFrames,
      durationS,
      appearances: plan.appearances.map((a) => appearanceTruth(a, spec)).filter((a) => a.boxes.length > 0),
    };
  });
}

function clipFileName(index: number): string {
  return `clip-${String(index).padStart(3, '0')}.h264`;
}

// Renders in flight in this process, so concurrent calls for one spec share a single render.
const inFlight = new Map<string, Promise<SceneClip[]>>();

/** Returns the cached clips of `spec`, rendering them first if needed. */
export async function ensureScenes(spec: SceneSpec, deps: SceneDeps): Promise<SceneClip[]> {
  const clips = planScenes(spec); // validates the spec before anything touches the disk
  const hash = specHash(spec);
  const final = join(deps.cacheDir, hash);
  const running = inFlight.get(final);
  if (running !== undefined) return running;
  const p = ensureUncoordinated(spec, deps, clips, hash, final).finally(() => inFlight.delete(final));
  inFlight.set(final, p);
  return p;
}

async function ensureUncoordinated(
  spec: SceneSpec,
  deps: SceneDeps,
  clips: SceneClip[],
  hash: string,
  final: string,
): Promise<SceneClip[]> {
  const total = clips.reduce((n, c) => n + c.frames, 0);
  const cached = await readCache(final, hash, spec.count);
  if (cached) {
    deps.log.debug({ dir: final }, 'scenes: cache hit');
    deps.onProgress?.(total, total);
    return cached;
  }
  await mkdir(deps.cacheDir, { recursive: true });
  await removeStalePartials(deps.cacheDir, hash);
  const partial = partialDir(deps.cacheDir, hash, process.pid);
  await mkdir(partial, { recursive: true });
  const assetsDir = deps.assetsDir ?? defaultAssetsDir();
  deps.log.info({ dir: final, clips: spec.count, frames: total }, 'scenes: rendering');
  const started = Date.now();
  try {
    let done = 0;
    deps.onProgress?.(0, total);
    for (const clip of clips) {
      const out = join(partial, clip.file);
      await renderClip(spec, clip, out, assetsDir, deps.ffmpeg, (f) =>
        deps.onProgress?.(done + Math.min(f, clip.frames), total),
      );
      done += clip.frames;
      deps.onProgress?.(done, total);
    }
    await commitCache(partial, final, hash, spec, clips);
  } catch (e) {
    await rm(partial, { recursive: true, force: true });
    throw e;
  }
  deps.log.info({ dir: final, ms: Date.now() - started }, 'scenes: rendered');
  const result = await readCache(final, hash, spec.count);
  if (!result) throw new Error(`scenes: cache at ${final} unreadable right after rendering`);
  return result;
}

function renderClip(
  spec: SceneSpec,
  clip: SceneClip,
  out: string,
  assetsDir: string,
  bin: FfmpegBinary,
  onFrames: (frames: number) => void,
): Promise<void> {
  const graph = clipGraph(planClip(spec, clip.index), spec);
  const cmd = ffmpegCommand(bin).input(graph.clock).inputFormat('lavfi');
  for (const img of graph.images) cmd.input(assetPath(assetsDir, img));
  cmd
    .complexFilter(graph.filter)
    .outputOptions([
      '-map',
      `[${graph.out}]`,
      '-frames:v',
      String(clip.frames),
      '-an',
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
      String(clip.gopFrames),
      '-keyint_min',
      String(clip.gopFrames),
      '-sc_threshold',
      '0',
      // SPS/PPS before every IDR, so any keyframe is a clean entry point for the replay.
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
      '-filter_complex_threads',
      '1',
      // Machine-readable progress on stderr (fluent's own `progress` event would run ffprobe).
      '-progress',
      'pipe:2',
      '-nostats',
      '-loglevel',
      'error',
      '-f',
      'h264',
    ])
    .output(out);
  return new Promise((resolve, reject) => {
    cmd.on('stderr', (line: string) => {
      const m = /^frame=(\d+)/.exec(line.trim());
      if (m) onFrames(Number(m[1]));
    });
    cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      const detail = (stderr ?? '')
        .split('\n')
        .filter((l) => l && !/^\w+=/.test(l))
        .slice(-5)
        .join(' | ');
      reject(
        new Error(
          `scenes: ffmpeg failed on clip ${clip.index}: ${err.message}${detail ? ` (${detail})` : ''}`,
        ),
      );
    });
    cmd.on('end', () => resolve());
    cmd.run();
  });
}
