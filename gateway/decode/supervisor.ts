// Assigns cameras to ffmpeg processes and keeps them decoding. Healthy cameras share a process
// (~2.6 ms CPU and ~4 MB per camera-second against ~8 ms and 13 MB alone); a camera that fails
// or stalls is taken out of its group, which restarts without it at once, and retried alone
// ("quarantine") with backoff until it delivers frames long enough to rejoin a group.
import type { FfmpegBinary } from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/log.ts';
import type { Frame, PendingFrame } from '../frame.ts';
import { decoderCaps, parseMode, defaultArgsOptions, type ArgsOptions } from './args.ts';
import { defaultBackoff, type BackoffOptions } from './backoff.ts';
import { startGroup } from './group.ts';
import type { CameraStatus } from './status.ts';
import { createSlots, type Cam, type ProcHandlers, type SlotHost } from './slots.ts';

export type { CameraStatus } from './status.ts';

export interface SupervisorOptions {
  /** `keyframes` or `fps:<n>`. */
  mode: string;
  camerasPerDecoder: number;
  /** A camera without frames this long, while its process runs, is stalled. */
  stallS: number;
  ffmpeg: FfmpegBinary;
  width: number;
  height: number;
  backoff?: Partial<BackoffOptions>;
  /** A process with no frame from any camera this long is stalled (default stallS / 2, >= 3 s). */
  processStallS?: number;
  /** How often quarantined cameras that work are moved back into groups (default 30 s). */
  regroupS?: number;
  /** How long a quarantined camera must deliver before it rejoins (default 30 s, doubling per relapse). */
  rejoinAfterS?: number;
  /** Concurrently running quarantine processes (default 64): bounds memory after a mass outage. */
  maxSolo?: number;
  killTimeoutMs?: number;
  stderrLines?: number;
  args?: Partial<Pick<ArgsOptions, 'socketTimeoutMs' | 'probe' | 'analyzeDurationMs' | 'fit'>>;
}

export interface SupervisorDeps {
  log: Logger;
  onFrame(frame: Frame): void;
  onStatus(cameraId: string, status: CameraStatus, detail?: string): void;
  /** True while a camera's frames are not wanted (privacy suspend): decode only what keeps it healthy. */
  idle?(cameraId: string): boolean;
  /** Node ingest: true while a face is tracked on the camera, which keeps its keyframes decoded. */
  tracked?(cameraId: string): boolean;
  /** Node ingest: a keyframe left undecoded, and why ('still': the activity gate saw nothing). */
  onSkip?(cameraId: string, reason: 'still' | 'compressed'): void;
  /**
   * Node ingest, decode on demand: keyframes come as pending frames, decoded only when analysis
   * loads them ('compressed' skips are the ones it discarded). Without it, every keyframe is decoded.
   */
  onPending?(frame: PendingFrame): void;
  /** Node ingest: a catch-up decode of a GOP on activity onset was made, or refused (bounded rate). */
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

export interface DecoderSupervisor {
  setCameras(list: readonly { id: string; url: string }[]): void;
  stats(): { cameras: CameraStats[]; processes: ProcessStats[] };
  pids(): number[];
  close(): Promise<void>;
}

export function createDecoderSupervisor(o: SupervisorOptions, deps: SupervisorDeps): DecoderSupervisor {
  const log = deps.log.child({ component: 'decode' });
  const mode = parseMode(o.mode);
  const caps = decoderCaps(o.ffmpeg);
  const args: ArgsOptions = { ...defaultArgsOptions, ...o.args, mode, width: o.width, height: o.height };
  const stallMs = o.stallS * 1000;
  const killTimeoutMs = o.killTimeoutMs ?? 2000;
  const stderrLines = o.stderrLines ?? 40;

  const host: SlotHost = {
    log,
    now: () => Date.now(),
    cap: o.camerasPerDecoder,
    stallMs,
    processStallMs: (o.processStallS ?? Math.max(3, o.stallS / 2)) * 1000,
    rejoinAfterMs: (o.rejoinAfterS ?? 30) * 1000,
    maxSolo: o.maxSolo ?? 64,
    backoff: { ...defaultBackoff, ...o.backoff },
    spawn(cams: readonly Cam[], ph: ProcHandlers) {
      return startGroup(
        {
          bin: o.ffmpeg,
          caps,
          args,
          cameras: cams.map((c) => ({ id: c.id, url: c.url })),
          stderrLines,
          killTimeoutMs,
        },
        {
          onFrame: (i, rgb) => {
            const cam = cams[i];
            if (cam) ph.frame(cam, rgb);
          },
          onCameraEnd: (i) => {
            const cam = cams[i];
            if (cam) ph.ended(cam);
          },
          onExit: (info) => ph.exit(info),
        },
        log,
      );
    },
    emitFrame(cam: Cam, rgb: Buffer) {
      // captureTs: arrival time. Keyframe-only decoding adds little delay (tens of ms) after the
      // camera's own encode and network latency, which nothing in the stream tells us here.
      deps.onFrame({
        cameraId: cam.id,
        width: o.width,
        height: o.height,
        rgb,
        captureTs: Date.now(),
        seq: cam.seq++,
      });
    },
    setStatus(cam: Cam, status: CameraStatus, detail?: string) {
      if (cam.status === status) return;
      cam.status = status;
      if (status === 'online') cam.wasOnline = true;
      log.info({ camera: cam.id, status, detail }, 'camera status');
      if (detail === undefined) deps.onStatus(cam.id, status);
      else deps.onStatus(cam.id, status, detail);
    },
  };
  const slots = createSlots(host);
  const tick = setInterval(() => slots.watchdog(), 500);
  const regroup = setInterval(() => slots.regroup(), (o.regroupS ?? 30) * 1000);
  tick.unref();
  regroup.unref();
  let closed = false;

  return {
    setCameras(list) {
      if (closed) return;
      slots.setCameras(list);
    },
    stats() {
      const now = Date.now();
      const cameras = slots.cameras().map(
        (c): CameraStats => ({
          id: c.id,
          status: c.status ?? 'starting',
          frames: c.frames,
          restarts: c.restarts,
          lastFrameAgeMs: c.lastFrameAt === undefined ? null : now - c.lastFrameAt,
          placement: c.slot ? (c.slot.quarantine ? 'quarantine' : 'group') : 'waiting',
          pid: c.slot?.proc?.pid ?? null,
        }),
      );
      const processes = slots.all().map(
        (s): ProcessStats => ({
          pid: s.proc?.pid ?? null,
          kind: s.quarantine ? 'quarantine' : 'group',
          generation: s.gen,
          cameras: s.cameras.map((c) => c.id),
          stderrLinesDropped: s.proc?.stderrDropped() ?? 0,
        }),
      );
      return { cameras, processes };
    },
    pids: () =>
      slots.all().flatMap((s) => (s.proc?.pid !== undefined && !s.proc.exited() ? [s.proc.pid] : [])),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(tick);
      clearInterval(regroup);
      await slots.close(killTimeoutMs + 2500);
    },
  };
}
