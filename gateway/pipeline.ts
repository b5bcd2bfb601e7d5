// Frames to face events: motion gate, analysis scheduler over the detector pool, size filter,
// tracker, and the crop stage that keeps each face's events in order on their way out.
import type { Config } from '../config/schema.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import { encodeJpeg } from '../shared/ffmpeg.ts';
import type { Parts } from '../shared/lifecycle.ts';
import type { Logger } from '../shared/log.ts';
import { createAnalyzer, type Analyzer } from './analysis/scheduler.ts';
import { createCropper, createCropStage, type CropStage } from './crop.ts';
import type { Detector } from './detect/pool.ts';
import { createMotionGate, type MotionGate } from './motion.ts';
import { trackerOptions } from './settings.ts';
import { createTracker, type EndReason, type FaceEvent, type Tracker } from './tracker.ts';

/** What the event path needs from the rest of the gateway. */
export interface PipelineDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  detector: Detector;
  /** True while the camera is suspended (privacy): its in-flight frames make no event. */
  suspended(cameraId: string): boolean;
  /** Every event, in order, once its crop (if any) is attached. */
  deliver(ev: FaceEvent): void;
  /** The motion gate and the analyzer are registered here (startup rollback). */
  parts: Pick<Parts, 'add' | 'defer'>;
}

export interface Pipeline {
  tracker: Tracker;
  motionGate: MotionGate | undefined;
  analyzer: Analyzer;
  out: CropStage;
  /** Events not tied to an analysed frame (ends, sweeps) go out through the crop stage too. */
  emit(events: readonly FaceEvent[]): void;
  /** A camera leaving this gateway (or suspended) is forgotten by analysis, motion and tracking. */
  forget(cameraId: string, reason?: EndReason): void;
}

export function startPipeline(cfg: Config, gatewayId: string, deps: PipelineDeps): Pipeline {
  const g = cfg.gateway;
  const { parts, detector } = deps;
  const tracker = createTracker(trackerOptions(g, gatewayId));
  const motionGate =
    g.motionThreshold > 0
      ? createMotionGate({ threshold: g.motionThreshold, forceEveryS: g.motionForceS })
      : undefined;
  parts.defer('motion gate', () => motionGate?.close());

  const cropper = g.crops ? createCropper((rgb, w, h) => encodeJpeg(deps.ffmpeg, rgb, w, h)) : undefined;
  // Every event goes through the crop stage, which keeps each face's events in order.
  const out = createCropStage(cropper, cfg.mqtt.messageExpiryS, (events) => {
    for (const ev of events) deps.deliver(ev);
  });
  const emit = (events: readonly FaceEvent[]): void => out.push(events);
  const analyzer: Analyzer = createAnalyzer(
    { budgetFps: g.budgetFps },
    {
      detector,
      motionGate,
      keepAnalysing: (cam) => tracker.hasActive(cam),
      onDetections: (cam, frame, dets) => {
        // A frame that was in the detector when its camera was suspended makes no event.
        if (deps.suspended(cam)) return;
        // Size filter, as Frigate's min/max area: at an entrance camera a "face" taller than half the
        // picture is something at the lens (the simulator's cat is one), not a person walking by.
        const faces = dets.filter((d) => d.box[3] >= g.minFaceHeight && d.box[3] <= g.maxFaceHeight);
        out.push(tracker.observe(cam, frame, faces), frame);
      },
      log: deps.log,
    },
  );
  parts.add('analyzer', analyzer, (a) => a.close());
  const forget = (cam: string, reason?: EndReason): void => {
    analyzer.removeCamera(cam);
    motionGate?.removeCamera(cam);
    emit(tracker.removeCamera(cam, reason));
  };
  return { tracker, motionGate, analyzer, out, emit, forget };
}
