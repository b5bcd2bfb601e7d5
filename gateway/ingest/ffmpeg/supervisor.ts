// Assigns cameras to ffmpeg processes and keeps them decoding. Healthy cameras share a process
// (~2.6 ms CPU and ~4 MB per camera-second against ~8 ms and 13 MB alone); a camera that fails
// or stalls is taken out of its group, which restarts without it at once, and retried alone
// ("quarantine") with backoff until it delivers frames long enough to rejoin a group.
import { cameraStats, type SourceOptions } from '../camera.ts';
import { decoderCaps, parseMode, defaultArgsOptions, type ArgsOptions } from './args.ts';
import { defaultBackoff } from '../backoff.ts';
import type { Ingest, IngestDeps, ProcessStats } from '../contract.ts';
import { startGroup } from './group.ts';
import { applyStatus, type CameraStatus } from '../status.ts';
import { createSlots, type Cam, type ProcHandlers, type SlotHost } from './slots.ts';

export interface FfmpegIngestOptions extends SourceOptions {
  /** `keyframes` or `fps:<n>`. */
  mode: string;
  /** A process with no frame from any camera this long is stalled (default stallS / 2, >= 3 s). */
  processStallS?: number;
  /** How often quarantined cameras that work are moved back into groups (default 30 s). */
  regroupS?: number;
  /** How long a quarantined camera must deliver before it rejoins (default 30 s, doubling per relapse). */
  rejoinAfterS?: number;
  /** Concurrently running quarantine processes (default 64): bounds memory after a mass outage. */
  maxSolo?: number;
  stderrLines?: number;
  args?: Partial<Pick<ArgsOptions, 'socketTimeoutMs' | 'probe' | 'analyzeDurationMs' | 'fit'>>;
}

export function createFfmpegIngest(o: FfmpegIngestOptions, deps: IngestDeps): Ingest {
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
      applyStatus(cam, status, detail, log, deps.onStatus);
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
      const cameras = slots
        .cameras()
        .map((c) =>
          cameraStats(
            c,
            now,
            c.slot ? (c.slot.quarantine ? 'quarantine' : 'group') : 'waiting',
            c.slot?.proc?.pid ?? null,
          ),
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
