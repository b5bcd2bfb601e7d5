// What the scheduler counts, per camera and in total, and the stats built from it: counting kept
// in one place so the scheduler's code is about order and fairness only.
import type { Frame, PendingFrame } from '../frame.ts';
import {
  emptyCounters,
  isPending,
  type CameraCounters,
  type CameraSlot,
  type CameraStats,
  type DropReason,
} from './slots.ts';
import { SampleWindow, type Summary } from './window.ts';

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

export class Tally {
  readonly totals = emptyCounters();
  readonly totalMs = new SampleWindow(1024);
  readonly limitedBy = { budget: 0, workers: 0 };

  offered(cam: CameraSlot): void {
    cam.counters.offered++;
    this.totals.offered++;
  }

  drop(cam: CameraSlot, reason: DropReason): void {
    cam.counters.dropped[reason]++;
    this.totals.dropped[reason]++;
  }

  /** A pending frame let go undecoded. */
  discard(cam: CameraSlot, p: PendingFrame): void {
    cam.counters.discarded++;
    this.totals.discarded++;
    p.discard();
  }

  /** A waiting frame that will not be analysed: a pending one is discarded, a decoded one dropped. */
  letGo(cam: CameraSlot, frame: Frame | PendingFrame, reason: DropReason): void {
    if (isPending(frame)) this.discard(cam, frame);
    else this.drop(cam, reason);
  }

  analysed(cam: CameraSlot, ms: number, faces: number): void {
    cam.ms.add(ms);
    this.totalMs.add(ms);
    cam.counters.analysed++;
    this.totals.analysed++;
    cam.lastHadFaces = faces > 0;
    if (cam.lastHadFaces) {
      cam.counters.withFaces++;
      this.totals.withFaces++;
    }
  }

  stats(cams: ReadonlyMap<string, CameraSlot>, inFlight: number): AnalyzerStats {
    const cameras: Record<string, CameraStats> = {};
    let waiting = 0;
    for (const [id, cam] of cams) {
      cameras[id] = cam.stats();
      if (cam.frame) waiting++;
    }
    return {
      total: {
        ...this.totals,
        dropped: { ...this.totals.dropped },
        cameras: cams.size,
        inFlight,
        waiting,
        inferenceMs: this.totalMs.summary(),
        limitedBy: { ...this.limitedBy },
      },
      cameras,
    };
  }
}
