// What both sources keep of every camera, the options they share, and the stats row they report.
import type { FfmpegBinary } from '../../shared/ffmpeg.ts';
import type { BackoffOptions } from './backoff.ts';
import type { CameraStats } from './contract.ts';
import type { StatusHolder } from './status.ts';

/** Options of every source (each adds its own). */
export interface SourceOptions {
  /** Cameras per decoder process: inputs of an ffmpeg, or cameras of a shared keyframe decoder. */
  camerasPerDecoder: number;
  /** A camera without frames this long is stalled (offline, its session or process restarts). */
  stallS: number;
  ffmpeg: FfmpegBinary;
  width: number;
  height: number;
  backoff?: Partial<BackoffOptions>;
  /** SIGTERM, then SIGKILL after this long (default 2000). */
  killTimeoutMs?: number;
}

export interface BaseCamera extends StatusHolder {
  url: string;
  frames: number;
  restarts: number;
  /** Sequence number of the next frame. */
  seq: number;
  lastFrameAt: number | undefined;
}

export function baseCamera(id: string, url: string): BaseCamera {
  return {
    id,
    url,
    status: undefined,
    wasOnline: false,
    frames: 0,
    restarts: 0,
    seq: 0,
    lastFrameAt: undefined,
  };
}

export function cameraStats(
  c: BaseCamera,
  now: number,
  placement: CameraStats['placement'],
  pid: number | null,
): CameraStats {
  return {
    id: c.id,
    status: c.status ?? 'starting',
    frames: c.frames,
    restarts: c.restarts,
    lastFrameAgeMs: c.lastFrameAt === undefined ? null : now - c.lastFrameAt,
    placement,
    pid,
  };
}
