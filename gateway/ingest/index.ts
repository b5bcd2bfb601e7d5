// Picks the ingest source by `gateway.ingest.kind`, each with its own options (config/schema.ts):
// no option of one source is rewritten for the other.
import type { IngestConfig } from '../../config/schema.ts';
import type { FfmpegBinary } from '../../shared/ffmpeg.ts';
import type { Ingest, IngestDeps } from './contract.ts';
import { createFfmpegIngest } from './ffmpeg/supervisor.ts';
import { createRtspIngest } from './rtsp/supervisor.ts';

export type { Ingest, IngestDeps } from './contract.ts';

export interface IngestCommon {
  stallS: number;
  ffmpeg: FfmpegBinary;
  width: number;
  height: number;
}

export function createIngest(cfg: IngestConfig, common: IngestCommon, deps: IngestDeps): Ingest {
  if (cfg.kind === 'ffmpeg') {
    // Pending frames, skips and catch-up are the rtsp source's: ffmpeg decodes what it reads.
    const { onPending: _p, onSkip: _s, onCatchUp: _c, tracked: _t, ...rest } = deps;
    return createFfmpegIngest(
      { ...common, mode: cfg.decode, camerasPerDecoder: cfg.camerasPerDecoder },
      rest,
    );
  }
  const { onPending, ...rest } = deps;
  return createRtspIngest(
    {
      ...common,
      camerasPerDecoder: cfg.camerasPerDecoder,
      activity: {
        enabled: cfg.activityGate,
        threshold: cfg.activityThreshold,
        forceLookMs: cfg.forceLookS * 1000,
        afterTrackLookMs: cfg.afterTrackLookS * 1000,
      },
      catchUpPerS: cfg.catchUpPerS,
    },
    cfg.decodeOnDemand && onPending ? { ...rest, onPending } : rest,
  );
}
