// The one contract of the gateway's ingest: cameras in, frames (or pending frames) and per-camera
// statuses out, stats, close. Two sources implement it: `rtsp` (rtsp/: the gateway reads RTSP and
// decodes keyframes in shared decoders) and `ffmpeg` (ffmpeg/: ffmpeg reads each URL itself).
import type { Logger } from '../../shared/log.ts';
import type { Frame, PendingFrame } from '../frame.ts';
import type { CameraStatus } from './status.ts';

export type { CameraStatus } from './status.ts';

export interface CameraInput {
  id: string;
  url: string;
}

export interface IngestDeps {
  log: Logger;
  onFrame(frame: Frame): void;
  onStatus(cameraId: string, status: CameraStatus, detail?: string): void;
  /** True while a camera's frames are not wanted (privacy suspend): decode only what keeps it healthy. */
  idle?(cameraId: string): boolean;
  /** rtsp source: true while a face is tracked on the camera, which keeps its keyframes decoded. */
  tracked?(cameraId: string): boolean;
  /** rtsp source: a keyframe left undecoded, and why ('still': the activity gate saw nothing). */
  onSkip?(cameraId: string, reason: 'still' | 'compressed'): void;
  /**
   * rtsp source, decode on demand: keyframes come as pending frames, decoded only when analysis
   * loads them ('compressed' skips are the ones it discarded). Without it, every keyframe is decoded.
   */
  onPending?(frame: PendingFrame): void;
  /** rtsp source: a catch-up decode of a GOP on activity onset was made, or refused (bounded rate). */
  onCatchUp?(cameraId: string, result: 'decoded' | 'refused'): void;
}

export interface CameraStats {
  id: string;
  status: CameraStatus | 'starting';
  frames: number;
  restarts: number;
  /** ms since the last frame; null before the first. */
  lastFrameAgeMs: number | null;
  placement: 'group' | 'quarantine' | 'waiting';
  pid: number | null;
}

export interface ProcessStats {
  pid: number | null;
  kind: 'group' | 'quarantine';
  generation: number;
  cameras: string[];
  /** stderr lines that fell out of the bounded tail of the running process. */
  stderrLinesDropped: number;
}

export interface IngestStats {
  cameras: CameraStats[];
  processes: ProcessStats[];
}

export interface Ingest {
  /** The wanted cameras: new ones start, missing ones stop, a changed URL restarts. */
  setCameras(list: readonly CameraInput[]): void;
  stats(): IngestStats;
  /** Child process ids (for CPU and memory measurement). */
  pids(): number[];
  /** Stops every camera and child process; bounded in time. */
  close(): Promise<void>;
}
