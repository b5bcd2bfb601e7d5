// Renders the scene clips once with ffmpeg (libx264 or libx265, Annex-B, no B-frames, whole GOPs)
// and caches them.
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FfmpegBinary } from '../../shared/ffmpeg.ts';
import { ffmpegCommand } from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/log.ts';
import type { SceneClip, SceneSpec } from './types.ts';
import { assetPath, defaultAssetsDir } from './assets.ts';
import { commitCache, partialDir, readCache, removeStalePartials, specHash } from './cache.ts';
import { clipGraph } from './filtergraph.ts';
import { lightEvents } from './lights.ts';
import { doorTruth } from './residential.ts';
import { appearanceTruth, clipTiming, planClip } from './schedule.ts';
import { encoderOptions } from './encoders.ts';

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
  clipTiming(spec); // validates the spec
  return Array.from({ length: spec.count }, (_, index) => {
    const plan = planClip(spec, index);
    const { gopFrames, frames, durationS } = clipTiming(spec, plan.profile);
    const appearances = [
      ...plan.appearances.map((a) => appearanceTruth(a, spec)).filter((a) => a.boxes.length > 0),
      ...plan.doors.map((d) => doorTruth(d, plan, spec)),
    ].sort((a, b) => a.startS - b.startS || a.id.localeCompare(b.id));
    return {
      index,
      file: clipFileName(index, plan.codec),
      codec: plan.codec,
      profile: plan.profile,
      width: spec.width,
      height: spec.height,
      fps: spec.fps,
      frames,
      gopFrames,
      durationS,
      appearances,
      lights: lightEvents(plan.lights),
    };
  });
}

function clipFileName(index: number, codec: SceneClip['codec']): string {
  return `clip-${String(index).padStart(3, '0')}.${codec}`;
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
      const t0 = Date.now();
      await renderClip(spec, clip, out, assetsDir, deps.ffmpeg, (f) =>
        deps.onProgress?.(done + Math.min(f, clip.frames), total),
      );
      done += clip.frames;
      deps.onProgress?.(done, total);
      deps.log.info(
        {
          clip: clip.index,
          of: clips.length,
          profile: clip.profile,
          codec: clip.codec,
          seconds: clip.durationS,
          bytes: (await stat(out)).size,
          ms: Date.now() - t0,
          framesDone: done,
          framesTotal: total,
        },
        'scenes: clip rendered',
      );
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
      ...encoderOptions(clip.codec, clip.gopFrames),
      '-filter_complex_threads',
      '1',
      // Machine-readable progress on stderr (fluent's own `progress` event would run ffprobe).
      '-progress',
      'pipe:2',
      '-nostats',
      '-loglevel',
      'error',
      '-f',
      clip.codec === 'h265' ? 'hevc' : 'h264',
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
