// What the gateway connects to its ingest: decoded frames (and, decode on demand, pending ones)
// go through privacy to the analyzer; statuses to the publisher and the tracker; the tracker keeps
// a camera decoded while it follows a face; skips and catch-ups are counted for the stats.
import type { IngestConfig } from '../config/schema.ts';
import type { FfmpegBinary } from '../shared/ffmpeg.ts';
import type { Logger } from '../shared/log.ts';
import type { Analyzer } from './analysis/scheduler.ts';
import { ANALYSIS_HEIGHT, ANALYSIS_WIDTH, type Frame, type PendingFrame } from './frame.ts';
import { createIngest, type Ingest } from './ingest/index.ts';
import type { CameraStatus } from './ingest/contract.ts';
import type { GatewayPrivacy } from './privacy/index.ts';

/** What the ingest did, for the gateway's stats. */
export interface FeedCounters {
  decoded: number;
  /** Keyframes the rtsp ingest left undecoded, by reason. */
  skipped: Record<string, number>;
  catchUp: { decoded: number; refused: number };
}

export interface FeedDeps {
  log: Logger;
  ffmpeg: FfmpegBinary;
  analyzer: Analyzer;
  privacy: GatewayPrivacy;
  /** True while the tracker follows a face on the camera. */
  tracked(cameraId: string): boolean;
  onStatus(cameraId: string, status: CameraStatus, detail?: string): void;
}

export function startIngestFeed(
  cfg: IngestConfig,
  stallS: number,
  deps: FeedDeps,
): { ingest: Ingest; counters: FeedCounters } {
  const counters: FeedCounters = { decoded: 0, skipped: {}, catchUp: { decoded: 0, refused: 0 } };
  const { analyzer, privacy: priv } = deps;
  const admit = (frame: Frame): Frame | undefined => {
    counters.decoded++;
    // Suspended cameras stop here; masked pixels are blanked before motion and detection.
    return priv.admit(frame) ? frame : undefined;
  };
  const ingest = createIngest(
    cfg,
    { stallS, ffmpeg: deps.ffmpeg, width: ANALYSIS_WIDTH, height: ANALYSIS_HEIGHT },
    {
      log: deps.log,
      onFrame: (frame) => {
        const f = admit(frame);
        if (f) analyzer.offer(f);
      },
      idle: (cam) => priv.idle(cam),
      // A person standing still makes no bits: while the tracker follows a face, keep decoding.
      tracked: deps.tracked,
      onSkip: (_cam, reason) => {
        counters.skipped[reason] = (counters.skipped[reason] ?? 0) + 1;
      },
      onCatchUp: (_cam, result) => counters.catchUp[result]++,
      // Decode on demand (rtsp ingest): the analyzer decodes a keyframe when the camera's turn comes.
      onPending: (p: PendingFrame) =>
        analyzer.offer({
          ...p,
          load: async () => {
            const frame = await p.load();
            return frame ? admit(frame) : undefined;
          },
        }),
      onStatus: deps.onStatus,
    },
  );
  return { ingest, counters };
}
