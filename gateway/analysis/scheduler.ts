// The analysis scheduler: latest-frame slot per camera -> motion gate -> detector, fair across
// cameras, under a budget of inferences per second (token bucket), never more in flight than the
// detector can take. Overload lowers every camera's analysed rate evenly; nothing queues.
// A slot may hold a pending frame (rtsp ingest: a keyframe still compressed): it is decoded when
// the camera's turn comes, then motion-gated, so a newer keyframe replaces it before any decoding.
import type { Frame, PendingFrame } from '../frame.ts';
import type { Logger } from '../../shared/log.ts';
import type { Detection } from '../detect/ultraface.ts';
import type { Detector } from '../detect/pool.ts';
import type { MotionGate } from '../motion.ts';
import {
  CameraSlot,
  ReadyRing,
  emptyCounters,
  isPending,
  type CameraCounters,
  type CameraStats,
  type DropReason,
} from './slots.ts';
import { SampleWindow, type Summary } from './window.ts';

export interface AnalyzerOptions {
  /** Inferences per second across all cameras. */
  budgetFps: number;
  /** Token bucket depth: inferences that may start back to back after a quiet spell. */
  burst?: number;
  /**
   * Pending frames decoded at once (default 8): a decode is a round trip to a shared ffmpeg
   * (~5-10 ms), longer than an inference, so one at a time would cap analysis below the budget.
   */
  maxDecoding?: number;
}

export interface AnalyzerDeps {
  detector: Pick<Detector, 'capacity' | 'detect'>;
  motionGate?: MotionGate | undefined;
  /**
   * True while a face is tracked on the camera: its frames bypass the motion gate so the tracker
   * sees the face leave. Without it, a camera bypasses while its last analysed frame had a face.
   */
  keepAnalysing?: ((cameraId: string) => boolean) | undefined;
  onDetections: (cameraId: string, frame: Frame, detections: Detection[]) => void;
  log: Logger;
  /** Monotonic ms; injectable for tests. */
  now?: () => number;
}

export interface AnalyzerStats {
  total: CameraCounters & {
    cameras: number;
    inFlight: number;
    waiting: number;
    inferenceMs: Summary;
    /** Times a waiting frame was held back by the budget or by busy workers: which knob to raise. */
    limitedBy: { budget: number; workers: number };
  };
  cameras: Record<string, CameraStats>;
}

export interface Analyzer {
  offer(frame: Frame | PendingFrame): void;
  removeCamera(cameraId: string): void;
  stats(): AnalyzerStats;
  /** Drops waiting frames and waits for in-flight ones (their results are discarded). */
  close(): Promise<void>;
}

export function createAnalyzer(opts: AnalyzerOptions, deps: AnalyzerDeps): Analyzer {
  if (!(opts.budgetFps > 0)) throw new RangeError('budgetFps must be > 0');
  const log = deps.log.child({ component: 'analysis' });
  const now = deps.now ?? (() => performance.now());
  const capacity = Math.max(1, deps.detector.capacity);
  const burst = Math.max(1, opts.burst ?? Math.min(capacity, opts.budgetFps));
  const rate = opts.budgetFps / 1000; // tokens per ms
  const cams = new Map<string, CameraSlot>();
  const ready = new ReadyRing();
  const totals = emptyCounters();
  const totalMs = new SampleWindow(1024);
  const limitedBy = { budget: 0, workers: 0 };
  const inFlight = new Set<Promise<void>>();
  /** Pending frames being decoded (<= maxDecoding), and decoded ones waiting for a detector worker. */
  const maxDecoding = Math.max(1, opts.maxDecoding ?? 8);
  let loading = 0;
  const loaded: { cam: CameraSlot; frame: Frame }[] = [];
  let tokens = burst;
  let refilledAt = now();
  let wake: NodeJS.Timeout | undefined;
  let closed = false;
  let errorLoggedAt = -Infinity;
  let errorsUnlogged = 0;

  function discard(cam: CameraSlot, p: PendingFrame): void {
    cam.counters.discarded++;
    totals.discarded++;
    p.discard();
  }

  function drop(cam: CameraSlot, reason: DropReason): void {
    cam.counters.dropped[reason]++;
    totals.dropped[reason]++;
  }

  function refill(): void {
    const t = now();
    tokens = Math.min(burst, tokens + (t - refilledAt) * rate);
    refilledAt = t;
  }

  function pump(): void {
    if (closed) return;
    refill();
    while (loaded.length > 0 && inFlight.size < capacity) {
      const l = loaded.shift()!;
      if (cams.get(l.cam.id) === l.cam) dispatch(l.cam, l.frame);
    }
    while (ready.size > 0) {
      const next = cams.get(ready.peek() ?? '')?.frame;
      // A pending frame needs a decode slot (decoding runs beside detection), a decoded one a worker.
      if (
        next && isPending(next)
          ? loading >= maxDecoding || loaded.length >= capacity
          : inFlight.size >= capacity
      ) {
        limitedBy.workers++;
        return; // a completion pumps again
      }
      if (tokens < 1) {
        limitedBy.budget++;
        if (!wake) {
          wake = setTimeout(
            () => {
              wake = undefined;
              pump();
            },
            Math.ceil((1 - tokens) / rate),
          );
          wake.unref();
        }
        return;
      }
      const cam = cams.get(ready.shift() ?? '');
      const frame = cam?.frame;
      if (!cam || !frame) continue;
      cam.frame = undefined;
      tokens -= 1;
      if (isPending(frame)) load(cam, frame);
      else dispatch(cam, frame);
    }
  }

  function motionPass(cam: CameraSlot, frame: Frame): boolean {
    if (!deps.motionGate) return true;
    const bypass = deps.keepAnalysing ? deps.keepAnalysing(cam.id) : cam.lastHadFaces;
    return deps.motionGate.check(frame, { bypass }).pass;
  }

  /** Decodes a pending frame on the camera's turn; its token comes back if nothing is analysed. */
  function load(cam: CameraSlot, p: PendingFrame): void {
    cam.busy = true;
    loading++;
    const giveBack = (reason: DropReason): void => {
      drop(cam, reason);
      tokens = Math.min(burst, tokens + 1);
      cam.busy = false;
      if (cam.frame) ready.add(cam.id);
      pump();
    };
    void p
      .load()
      .catch(() => undefined)
      .then((frame) => {
        loading--;
        if (closed || cams.get(cam.id) !== cam) {
          cam.busy = false;
          return;
        }
        if (!frame) return giveBack('lost');
        if (!motionPass(cam, frame)) return giveBack('motion');
        loaded.push({ cam, frame });
        pump();
      })
      .catch((err: unknown) => log.error({ err, camera: cam.id }, 'pending frame failed'));
  }

  function dispatch(cam: CameraSlot, frame: Frame): void {
    cam.busy = true;
    const t0 = now();
    let detecting: Promise<Detection[]>;
    try {
      detecting = deps.detector.detect(frame);
    } catch (err) {
      detecting = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const job: Promise<void> = detecting
      .then(
        (detections) => {
          if (closed || cams.get(cam.id) !== cam) return; // removed meanwhile: its tracks are gone
          const ms = now() - t0;
          cam.ms.add(ms);
          totalMs.add(ms);
          cam.counters.analysed++;
          totals.analysed++;
          cam.lastHadFaces = detections.length > 0;
          if (cam.lastHadFaces) {
            cam.counters.withFaces++;
            totals.withFaces++;
          }
          try {
            deps.onDetections(cam.id, frame, detections);
          } catch (err) {
            log.error({ err, camera: cam.id }, 'onDetections failed');
          }
        },
        (err: unknown) => {
          drop(cam, 'error');
          // At most one line every 5 s, however many frames fail.
          const t = now();
          if (t - errorLoggedAt >= 5000) {
            log.warn({ err, camera: cam.id, suppressed: errorsUnlogged }, 'detection failed');
            errorLoggedAt = t;
            errorsUnlogged = 0;
          } else errorsUnlogged++;
        },
      )
      .finally(() => {
        inFlight.delete(job);
        cam.busy = false;
        if (cam.frame && cams.get(cam.id) === cam) ready.add(cam.id);
        pump();
      });
    inFlight.add(job);
  }

  function offer(frame: Frame | PendingFrame): void {
    if (closed) {
      if (isPending(frame)) frame.discard();
      return;
    }
    let cam = cams.get(frame.cameraId);
    if (!cam) {
      cam = new CameraSlot(frame.cameraId);
      cams.set(cam.id, cam);
    }
    cam.counters.offered++;
    totals.offered++;
    if (!isPending(frame) && !motionPass(cam, frame)) {
      drop(cam, 'motion');
      return;
    }
    // A pending frame replaced before its turn was never decoded: the ingest counts it (skipped).
    if (cam.frame) {
      if (isPending(cam.frame)) discard(cam, cam.frame);
      else drop(cam, 'superseded');
    }
    cam.frame = frame;
    if (!cam.busy) ready.add(cam.id);
    pump();
  }

  function removeCamera(id: string): void {
    const cam = cams.get(id);
    if (!cam) return;
    if (cam.frame) {
      if (isPending(cam.frame)) discard(cam, cam.frame);
      else drop(cam, 'removed');
    }
    cams.delete(id);
    ready.delete(id);
    deps.motionGate?.removeCamera(id);
  }

  function stats(): AnalyzerStats {
    const cameras: Record<string, CameraStats> = {};
    let waiting = 0;
    for (const [id, cam] of cams) {
      cameras[id] = cam.stats();
      if (cam.frame) waiting++;
    }
    return {
      total: {
        ...totals,
        dropped: { ...totals.dropped },
        cameras: cams.size,
        inFlight: inFlight.size + loading + loaded.length,
        waiting,
        inferenceMs: totalMs.summary(),
        limitedBy: { ...limitedBy },
      },
      cameras,
    };
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (wake) clearTimeout(wake);
    for (const cam of cams.values()) {
      if (cam.frame && isPending(cam.frame)) discard(cam, cam.frame);
      else if (cam.frame) drop(cam, 'closed');
    }
    for (const l of loaded.splice(0)) drop(l.cam, 'closed');
    cams.clear();
    await Promise.allSettled([...inFlight]);
  }

  return { offer, removeCamera, stats, close };
}
