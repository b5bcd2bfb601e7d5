// The one configuration of the whole system. Every default lives here; config/facegate.example.yaml
// must equal these defaults (a test checks it). Unknown keys are errors (strictObject).
import { z } from 'zod';
import { privacySchema } from './privacy.ts';

const port = z.number().int().min(0).max(65535);
const seconds = z.number().positive();

/** simulator.shard: '', auto, k/n with 1 <= k <= n, or a-b with 1 <= a <= b (simulator/shard.ts). */
const shardSpec = z
  .string()
  .regex(
    /^$|^auto$|^[1-9]\d{0,4}\/[1-9]\d{0,4}$|^[1-9]\d{0,6}-[1-9]\d{0,6}$/,
    'k/n (shard k of n), a-b (camera numbers a to b), auto or empty',
  )
  .refine((s) => {
    const m = /^(\d+)[/-](\d+)$/.exec(s);
    return !m || Number(m[1]) <= Number(m[2]);
  }, 'k/n needs k <= n and a-b needs a <= b');

export const decodeMode = z
  .string()
  .regex(/^(keyframes|fps:(\d+(\.\d+)?))$/, 'keyframes or fps:<n>')
  .refine((s) => s === 'keyframes' || Number(s.slice(4)) > 0, 'fps:<n> needs n > 0');

const cameraSource = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1 to 64)'),
  url: z.string().regex(/^rtsps?:\/\//, 'an rtsp:// URL'),
  district: z.string().min(1).max(64).optional().describe('for privacy.suspend districts'),
});

export const citySchema = z.strictObject({
  cameras: z.number().int().min(1).max(100_000).default(50).describe('number of simulated cameras'),
  gateways: z.number().int().min(1).max(64).default(1).describe('gateways that `facegate up` starts'),
  width: z.number().int().min(64).max(3840).multipleOf(2).default(640).describe('scene width in pixels'),
  height: z.number().int().min(64).max(2160).multipleOf(2).default(360).describe('scene height in pixels'),
  fps: z.number().int().min(1).max(60).default(10).describe('scene frame rate'),
  keyframeInterval: seconds.max(10).default(1).describe('seconds between keyframes (IDR)'),
  scenes: z.number().int().min(1).max(64).default(8).describe('distinct clips the cameras replay'),
  sceneSeconds: z.number().int().min(4).max(600).default(60).describe('length of each clip'),
  seed: z.number().int().min(0).default(1).describe('seed of the face schedule and camera metadata'),
  profile: z
    .enum(['busy', 'residential', 'mixed'])
    .default('busy')
    .describe(
      'busy: someone every ~10 s at every door; residential: a few passages an hour, a door, a pet, light changes; mixed: residentialShare of the cameras are residential',
    ),
  residentialShare: z
    .number()
    .min(0)
    .max(1)
    .default(0.8)
    .describe('share of residential cameras when profile is mixed'),
  passagesPerHour: z
    .number()
    .min(0)
    .max(720)
    .default(20)
    .describe(
      'people passing a residential entrance per hour (Poisson, sometimes in pairs; each in view ~8 s)',
    ),
  residentialSeconds: z
    .number()
    .int()
    .min(4)
    .max(1800)
    .default(300)
    .describe('length of each residential clip (long enough for a few passages)'),
  codec: z
    .enum(['h264', 'h265', 'mixed'])
    .default('h264')
    .describe('what the cameras send; mixed: h265Share of the cameras send H.265'),
  h265Share: z.number().min(0).max(1).default(0.5).describe('share of H.265 cameras when codec is mixed'),
  noise: z.number().min(0).max(40).default(7).describe('sensor grain (ffmpeg noise strength; 0: off)'),
  lights: z
    .boolean()
    .default(true)
    .describe('light changes: exposure drift; at residential doors also the hall light and shadows'),
  distractors: z
    .boolean()
    .default(true)
    .describe(
      'movement without a face at residential doors: the door, a pet, a back of a head, a face too small or blurred',
    ),
});

export const simulatorSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('RTSP bind address'),
  port: port.default(8554).describe('RTSP port (0: any free port)'),
  publicHost: z
    .string()
    .default('')
    .describe("host name put in catalog URLs (default: host; @hostname: this machine's name)"),
  username: z.string().default('').describe('RTSP Digest user (empty: no auth)'),
  password: z.string().default('').describe('RTSP Digest password'),
  maxSessions: z.number().int().min(1).default(20_000).describe('sessions beyond this get 453'),
  sessionTimeoutS: seconds.default(60).describe('idle RTSP session timeout'),
  cacheDir: z.string().min(1).default('.facegate/scenes').describe('where rendered clips are cached'),
  control: z.boolean().default(true).describe('accept <prefix>/simulator/set control messages'),
  publishTruth: z.boolean().default(false).describe('publish ground truth on <prefix>/truth/<camera>'),
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{0,64}$/)
    .default('')
    .describe('simulator id for shard auto (empty: sim-<hostname>-<pid>)'),
  shard: shardSpec
    .default('')
    .describe(
      'serve part of the city: k/n (cameras i with i mod n = k-1), a-b (camera numbers), auto (share among the auto simulators online); empty: all',
    ),
  shardSettleS: seconds
    .max(600)
    .default(3)
    .describe('shard auto: wait this long after simulators come or go before taking cameras'),
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
    .default(48)
    .describe('cameras per shared keyframe decoder (one decoder passes 300+ keyframes a second)'),
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
  budgetFps: z.number().positive().default(200).describe('inferences per second across all cameras'),
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

export const mqttSchema = z.strictObject({
  url: z
    .string()
    .regex(/^$|^(mqtts?|wss?|tcp|ssl):\/\/./, 'an mqtt://, mqtts://, ws:// or wss:// URL')
    .default('')
    .describe('broker URL (empty: `facegate up` embeds one; others use mqtt://127.0.0.1:<broker.port>)'),
  prefix: z
    .string()
    .regex(/^[^#+]+$/, 'no # or +')
    .default('facegate')
    .describe('topic prefix'),
  username: z.string().default(''),
  password: z.string().default(''),
  ca: z.string().default('').describe('CA certificate file for TLS'),
  cert: z.string().default('').describe('client certificate file'),
  key: z.string().default('').describe('client key file'),
  clientId: z.string().default('').describe('client id (empty: derived from the component)'),
  outboxMax: z.number().int().min(1).default(10_000).describe('events kept while the broker is away'),
  messageExpiryS: z.number().int().min(0).default(3600).describe('MQTT 5 message expiry of events'),
  reconnectMaxS: seconds
    .max(300)
    .default(5)
    .describe(
      'longest wait between reconnect attempts (full jitter): how late a client sees the broker back',
    ),
});

export const brokerSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('embedded broker bind address'),
  port: port.default(1883).describe('embedded broker port (0: any free port)'),
});

export const httpSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1').describe('console and /metrics bind address'),
  port: port.default(8080).describe('console and /metrics port (0: any free port)'),
});

export const ffmpegSchema = z.strictObject({
  path: z
    .string()
    .default('')
    .describe('ffmpeg binary (empty: ffmpeg on the PATH, else the bundled static build)'),
});

export const consoleSchema = z.strictObject({
  host: z.string().default('').describe('web console bind address (empty: http.host)'),
  port: port.default(8081).describe('web console port (0: any free port)'),
  maxLiveViews: z
    .number()
    .int()
    .min(0)
    .max(64)
    .default(4)
    .describe('live camera videos at once (each is one ffmpeg)'),
  auth: z
    .strictObject({
      user: z.string().max(64).default('').describe('console user (with passwordHash)'),
      passwordHash: z
        .string()
        .regex(
          /^$|^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
          'from `facegate console hash-password`',
        )
        .default('')
        .describe('scrypt hash from `facegate console hash-password`'),
      token: z
        .string()
        .regex(/^$|^.{16,256}$/, '16 to 256 characters')
        .default('')
        .describe('a shared secret accepted instead of user and password'),
    })
    .prefault({})
    .describe('who may open the console (empty: nobody is asked)'),
  allowAnonymous: z
    .boolean()
    .default(false)
    .describe('serve a non-loopback address without auth (everyone on the network sees the cameras)'),
  sessionS: z.number().int().min(60).max(604_800).default(43_200).describe('login session lifetime'),
});

export const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('auto: pretty on a terminal'),
});

export const configSchema = z.strictObject({
  city: citySchema.prefault({}),
  simulator: simulatorSchema.prefault({}),
  gateway: gatewaySchema.prefault({}),
  mqtt: mqttSchema.prefault({}),
  broker: brokerSchema.prefault({}),
  http: httpSchema.prefault({}),
  console: consoleSchema
    .refine((c) => (c.auth.user === '') === (c.auth.passwordHash === ''), {
      path: ['auth'],
      message: 'auth.user and auth.passwordHash go together',
    })
    .prefault({}),
  privacy: privacySchema.prefault({}),
  ffmpeg: ffmpegSchema.prefault({}),
  log: logSchema.prefault({}),
});

export type Config = z.infer<typeof configSchema>;
export type CameraSource = z.infer<typeof cameraSource>;

/** Paths whose values are never printed or logged. */
export const secretPaths = [
  'simulator.password',
  'mqtt.password',
  'gateway.rtspPassword',
  'console.auth.passwordHash',
  'console.auth.token',
] as const;
