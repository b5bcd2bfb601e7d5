// The gateway section of the configuration: the cameras it pulls, and `gateway.ingest`, a tagged
// union of the ways a gateway reads its cameras. Apart from config/schema.ts because it is the
// largest section and the one the ingest work changes; config/schema.ts re-exports its names.
import { z } from 'zod';
import { seconds } from './schema-units.ts';

export const decodeMode = z
  .string()
  .regex(/^(keyframes|fps:(\d+(\.\d+)?))$/, 'keyframes or fps:<n>')
  .refine((s) => s === 'keyframes' || Number(s.slice(4)) > 0, 'fps:<n> needs n > 0');

export const cameraSource = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1 to 64)'),
  url: z.string().regex(/^rtsps?:\/\//, 'an rtsp:// URL'),
  district: z.string().min(1).max(64).optional().describe('for privacy.suspend districts'),
});

/** The ingest a gateway runs when `gateway.ingest` names none. */
export const defaultIngestKind = 'rtsp';

const rtspIngest = z.strictObject({
  kind: z
    .literal('rtsp')
    .describe('rtsp: the gateway reads RTSP itself and decodes keyframes in shared decoders'),
  camerasPerDecoder: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .describe(
      'cameras per shared keyframe decoder (one decoder passes 200+ keyframes a second; each is ~50 MB resident)',
    ),
  activityGate: z
    .boolean()
    .default(true)
    .describe(
      "decode a keyframe only when the P-frame bytes before it rise above the camera's learned baseline, a face is tracked, or on a forced look",
    ),
  activityThreshold: z
    .number()
    .positive()
    .max(100)
    .default(3)
    .describe('activity gate: robust deviations (MAD) above the baseline median that count as activity'),
  decodeOnDemand: z
    .boolean()
    .default(true)
    .describe(
      "keep each camera's newest keyframe compressed and decode it when analysis takes the camera's turn (none decoded in vain)",
    ),
  catchUpPerS: z
    .number()
    .min(0)
    .max(1000)
    .default(0)
    .describe(
      'activity gate: GOPs decoded per second (whole gateway) when activity starts between keyframes, so a start event need not wait for the next keyframe (0: none, the default)',
    ),
  forceLookS: seconds
    .max(3600)
    .default(10)
    .describe('activity gate: decode a keyframe at least this often per camera, whatever the activity'),
  afterTrackLookS: seconds
    .max(3600)
    .default(3)
    .describe(
      'activity gate: for 15 s after a face was tracked on a camera, look this often instead (the next person may come in without bits the gate can see)',
    ),
});

const ffmpegIngest = z.strictObject({
  kind: z
    .literal('ffmpeg')
    .describe('ffmpeg: ffmpeg reads each RTSP URL itself (for streams the RTSP client cannot read)'),
  camerasPerDecoder: z.number().int().min(1).max(400).default(16).describe('inputs per ffmpeg process'),
  decode: decodeMode.default('keyframes').describe('keyframes | fps:<n>'),
});

/**
 * `gateway.ingest`: a tagged union, each kind with its own options and defaults. A bare kind
 * (`ingest: ffmpeg`, FACEGATE_GATEWAY_INGEST=ffmpeg) stands for that kind with its defaults; a
 * mapping without `kind` is the default kind.
 */
export const ingestSchema = z
  .preprocess(
    (v) =>
      typeof v === 'string'
        ? { kind: v }
        : typeof v === 'object' && v !== null && !Array.isArray(v) && !('kind' in v)
          ? { kind: defaultIngestKind, ...v }
          : v,
    z.discriminatedUnion('kind', [rtspIngest, ffmpegIngest], {
      error: (iss) => (iss.code === 'invalid_union' ? 'rtsp or ffmpeg (node is now rtsp)' : undefined),
    }),
  )
  .prefault(defaultIngestKind)
  .describe(
    'rtsp (default) or ffmpeg, or a mapping with kind: and its options (ffmpeg: camerasPerDecoder 16, decode keyframes or fps:<n>); env FACEGATE_GATEWAY_INGEST=ffmpeg for a bare kind',
  );

export type IngestConfig = z.infer<typeof rtspIngest> | z.infer<typeof ffmpegIngest>;
export type RtspIngestConfig = z.infer<typeof rtspIngest>;
export type FfmpegIngestConfig = z.infer<typeof ffmpegIngest>;

export const gatewaySchema = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{0,64}$/)
    .default('')
    .describe('gateway id (empty: gw-<hostname>-<pid>)'),
  cameras: z
    .array(cameraSource)
    .default([])
    .describe('cameras to pull (empty: discover from the simulator catalog)'),
  ingest: ingestSchema,
  detectorThreads: z.number().int().min(1).max(64).default(1).describe('inference worker threads'),
  detectorIntraOpThreads: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(1)
    .describe('onnxruntime threads inside each worker'),
  budgetFps: z
    .number()
    .positive()
    .default(150)
    .describe('inferences (and on-demand keyframe decodes) per second across all cameras'),
  scoreThreshold: z.number().min(0).max(1).default(0.7).describe('face score threshold'),
  minFaceHeight: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe('ignore face boxes shorter than this share of the frame height'),
  maxFaceHeight: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .describe(
      'ignore face boxes taller than this share of the frame height (an animal or object at the lens; Frigate max_area)',
    ),
  motionThreshold: z
    .number()
    .min(0)
    .max(255)
    .default(2)
    .describe('mean abs grey difference that counts as motion'),
  motionForceS: seconds.default(5).describe('analyse at least this often without motion'),
  confirmHits: z.number().int().min(1).max(10).default(1).describe('detections before a start event'),
  endAfterS: seconds.default(2.5).describe('a face unseen this long ends its event'),
  sweepAfterS: seconds
    .default(10)
    .describe('tracks of a camera with no analysed frame this long end as offline'),
  updateEveryS: z.number().min(0).default(0).describe('rate of update events (0: none)'),
  rtspUsername: z.string().default('').describe('credentials for cameras discovered from the catalog'),
  rtspPassword: z.string().default(''),
  crops: z.boolean().default(false).describe('attach a small JPEG face crop (base64) to start events'),
  statsEveryS: seconds.default(5).describe('period of <prefix>/gateways/<id>/stats'),
  settleS: seconds.default(3).describe('delay before rebalancing cameras among gateways'),
  stallS: seconds.default(10).describe('watchdog: a camera without frames this long restarts'),
});
