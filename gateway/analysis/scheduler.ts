// The analysis scheduler: latest-frame slot per camera -> motion gate -> detector, fair across
// cameras, under a budget of inferences per second (token bucket), never more in flight than the
// detector can take. Overload lowers every camera's analysed rate evenly, except that urgent
// frames (the bytes before a keyframe rose: someone may be new) go first; nothing queues.
// A slot may hold a pending frame (rtsp ingest: a keyframe still compressed): it is decoded when
// the camera's turn comes, then motion-gated, so a newer keyframe replaces it before any decoding.
import type { Frame, PendingFrame } from '../frame.ts';
import type { Logger } from '../../shared/log.ts';
import type { Detection } from '../detect/ultraface.ts';
import type { Detector } from '../detect/pool.ts';
import type { MotionGate } from '../motion.ts';
import { CameraSlot, ReadyRing, isPending } from './slots.ts';
import { TokenBucket } from './budget.ts';
import { createDecodeStage } from './decode-stage.ts';
import { Tally, type AnalyzerStats } from './tally.ts';

export type { AnalyzerStats } from './tally.ts';

export interface AnalyzerOptions {
  /** Inferences per second across all cameras. */
  budgetFps: number;
  /** Token bucket depth: inferences that may start back to back after a quiet spell (default 50 ms' worth). */
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

export interface Analyzer {
  offer(frame: Frame | PendingFrame): void;
  removeCamera(cameraId: string): void;
  stats(): AnalyzerStats;
  /** Drops waiting frames and waits for in-flight ones (their results are discarded). */
  close(): Promise<void>;
}

/** Logs detection failures at most one line every 5 s, however many frames fail. */
function failureLog(log: Logger, now: () => number): (cameraId: string, err: unknown) => void {
  let loggedAt = -Infinity;
  let unlogged = 0;
  return (camera, err) => {
    const t = now();
    if (t - loggedAt >= 5000) {
      log.warn({ err, camera, suppressed: unlogged }, 'detection failed');
      loggedAt = t;
      unlogged = 0;
    } else unlogged++;
  };
}

export function createAnalyzer(opts: AnalyzerOptions, deps: AnalyzerDeps): Analyzer {
  if (!(opts.budgetFps > 0)) throw new RangeError('budgetFps must be > 0');
  const log = deps.log.child({ component: 'analysis' });
  const now = deps.now ?? (() => performance.now());
  const capacity = Math.max(1, deps.detector.capacity);
  // 50 ms of budget: tokens that came due while the event loop was busy (RTP, decoded frames) are
  // not lost, or the delivered rate falls well below budgetFps (200 a second gave ~140).
  const burst = Math.max(1, opts.burst ?? Math.max(capacity, Math.ceil(opts.budgetFps / 20)));
  const cams = new Map<string, CameraSlot>();
  const ready = new ReadyRing();
  const tally = new Tally();
  const inFlight = new Set<Promise<void>>();
  const budget = new TokenBucket(opts.budgetFps, burst, now);
  /** Pending frames being decoded (<= maxDecoding), and decoded ones waiting for a detector worker. */
  const decode = createDecodeStage(Math.max(1, opts.maxDecoding ?? 8), capacity, {
    live: (cam) => !closed && cams.get(cam.id) === cam,
    pass: (cam, frame) => motionPass(cam, frame),
    // Its token comes back: nothing was analysed.
    refused: (cam, reason) => {
      tally.drop(cam, reason);
      budget.giveBack();
      cam.busy = false;
      if (cam.frame) ready.add(cam.id, cam.urgent);
      pump();
    },
    decoded: () => pump(),
    log,
  });
  let wake: NodeJS.Timeout | undefined;
  let closed = false;
  const detectionFailed = failureLog(log, now);

  function pump(): void {
    if (closed) return;
    budget.refill();
    while (decode.waiting() > 0 && inFlight.size < capacity) {
      const l = decode.next()!;
      if (cams.get(l.cam.id) === l.cam) dispatch(l.cam, l.frame);
    }
    while (ready.size > 0) {
      const next = cams.get(ready.peek() ?? '')?.frame;
      // A pending frame needs a decode slot (decoding runs beside detection), a decoded one a worker.
      if (next && isPending(next) ? decode.full() : inFlight.size >= capacity) {
        tally.limitedBy.workers++;
        return; // a completion pumps again
      }
      if (budget.empty()) {
        tally.limitedBy.budget++;
        if (!wake) {
          wake = setTimeout(() => {
            wake = undefined;
            pump();
          }, budget.msToNext());
          wake.unref();
        }
        return;
      }
      const cam = cams.get(ready.shift() ?? '');
      const frame = cam?.frame;
      if (!cam || !frame) continue;
      cam.frame = undefined;
      cam.urgent = false;
      budget.take();
      if (isPending(frame)) decode.load(cam, frame);
      else dispatch(cam, frame);
    }
  }

  function motionPass(cam: CameraSlot, frame: Frame): boolean {
    if (!deps.motionGate) return true;
    const bypass = deps.keepAnalysing ? deps.keepAnalysing(cam.id) : cam.lastHadFaces;
    return deps.motionGate.check(frame, { bypass }).pass;
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
          tally.analysed(cam, now() - t0, detections.length);
          try {
            deps.onDetections(cam.id, frame, detections);
          } catch (err) {
            log.error({ err, camera: cam.id }, 'onDetections failed');
          }
        },
        (err: unknown) => {
          tally.drop(cam, 'error');
          detectionFailed(cam.id, err);
        },
      )
      .finally(() => {
        inFlight.delete(job);
        cam.busy = false;
        if (cam.frame && cams.get(cam.id) === cam) ready.add(cam.id, cam.urgent);
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
    tally.offered(cam);
    if (!isPending(frame) && !motionPass(cam, frame)) {
      tally.drop(cam, 'motion');
      return;
    }
    // A pending frame replaced before its turn was never decoded: the ingest counts it (skipped).
    if (cam.frame) tally.letGo(cam, cam.frame, 'superseded');
    cam.frame = frame;
    // A newer frame keeps the urgency of the one it replaced: the activity was not looked at yet.
    cam.urgent ||= frame.urgent === true;
    if (!cam.busy) ready.add(cam.id, cam.urgent);
    pump();
  }

  function removeCamera(id: string): void {
    const cam = cams.get(id);
    if (!cam) return;
    if (cam.frame) tally.letGo(cam, cam.frame, 'removed');
    cams.delete(id);
    ready.delete(id);
    deps.motionGate?.removeCamera(id);
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    if (wake) clearTimeout(wake);
    for (const cam of cams.values()) if (cam.frame) tally.letGo(cam, cam.frame, 'closed');
    for (const l of decode.clear()) tally.drop(l.cam, 'closed');
    cams.clear();
    await Promise.allSettled([...inFlight]);
  }

  const stats = (): AnalyzerStats => tally.stats(cams, inFlight.size + decode.count());
  return { offer, removeCamera, stats, close };
}
