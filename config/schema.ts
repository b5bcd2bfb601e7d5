// The one configuration of the whole system. Every default lives here (the gateway section's in
// schema-gateway.ts); config/facegate.example.yaml must equal these defaults (a test checks it).
// Unknown keys are errors (strictObject).
import { z } from 'zod';
import { privacySchema } from './privacy.ts';
import { port, seconds } from './schema-units.ts';
import { type cameraSource, gatewaySchema } from './schema-gateway.ts';

// The gateway section (its ingest union, the cameras it pulls) lives in config/schema-gateway.ts;
// its names are exported from here too, so importers keep one place to look.
export {
  decodeMode,
  defaultIngestKind,
  type FfmpegIngestConfig,
  gatewaySchema,
  type IngestConfig,
  ingestSchema,
  type RtspIngestConfig,
} from './schema-gateway.ts';

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
