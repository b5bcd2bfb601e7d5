// The peers of the benchmark, each run as its own process: one ffmpeg per camera decoding every
// frame of the stream, sampled at `fps` and scaled to 320x240 RGB on stdout, and detection on the
// samples in the detector pool (worker threads, off the event loop), the tracker turning detections
// into events.
// - naive: fps=1, detection on every sample;
// - frigate: Frigate's documented pipeline: the detect stream decoded at the detect rate (fps=5),
//   pixel motion on every decoded frame, detection only on frames with motion or while a face is
//   tracked on that camera (Frigate re-detects tracked objects), same tracker rules as the gateway.
//
//   node --import tsx bench/peer-child.ts '<json PeerSpec>'
// stdout: {"ready":...}, then {"event":FaceEvent,"arrivedAt":ms} lines; stdin "stats" -> {"stats":...}.
// Ends (closing every ffmpeg) when stdin closes or on SIGTERM/SIGINT.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';
import { createLogger } from '../shared/log.ts';
import { createDetectorPool } from '../gateway/detect/pool.ts';
import { createMotionGate } from '../gateway/motion.ts';
import { createTracker, type FaceEvent } from '../gateway/tracker.ts';
import { ANALYSIS_HEIGHT, ANALYSIS_WIDTH, type Frame } from '../gateway/frame.ts';

export type PeerKind = 'naive' | 'frigate';

export interface PeerSpec {
  kind: PeerKind;
  cameras: { id: string; url: string }[];
  ffmpeg: FfmpegBinary;
  modelPath: string;
  /** Samples per second each camera's ffmpeg emits. */
  fps: number;
  detectorThreads: number;
  scoreThreshold: number;
  confirmHits: number;
  endAfterS: number;
  /** Pixel motion gate before detection (frigate); absent: detect every sample (naive). */
  motion?: { threshold: number };
  /** Face height bounds (normalised) as the gateway applies them; absent: none. */
  faceHeight?: { min: number; max: number };
}

export interface PeerStats {
  decoded: number;
  /** Samples the motion gate held back (no motion, nothing tracked). */
  still: number;
  analysed: number;
  dropped: number;
  ffmpegExits: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as PeerSpec;
const log = createLogger({ level: 'warn', format: 'json' });
const frameBytes = ANALYSIS_WIDTH * ANALYSIS_HEIGHT * 3;
const stats: PeerStats = { decoded: 0, still: 0, analysed: 0, dropped: 0, ffmpegExits: 0 };
const write = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};

const detector = await createDetectorPool(
  {
    modelPath: spec.modelPath,
    threads: Math.max(1, spec.detectorThreads),
    intraOpThreads: 1,
    scoreThreshold: spec.scoreThreshold,
    maxQueue: Math.max(1, spec.cameras.length),
  },
  { log },
);
const tracker = createTracker({
  gatewayId: spec.kind,
  confirmHits: spec.confirmHits,
  endAfterS: spec.endAfterS,
});
// Frigate has no forced look: without motion, only tracked objects are detected again.
const gate = spec.motion
  ? createMotionGate({ threshold: spec.motion.threshold, forceEveryS: 86_400 })
  : undefined;
const emit = (events: readonly FaceEvent[]): void => {
  const now = Date.now();
  for (const event of events) write({ event, arrivedAt: now });
};

const analyse = (frame: Frame): void => {
  if (gate && !gate.check(frame, { bypass: tracker.hasActive(frame.cameraId) }).pass) {
    stats.still++;
    return;
  }
  detector.detect(frame).then(
    (dets) => {
      stats.analysed++;
      const fh = spec.faceHeight;
      const faces = fh ? dets.filter((d) => d.box[3] >= fh.min && d.box[3] <= fh.max) : dets;
      const info = { captureTs: frame.captureTs, width: frame.width, height: frame.height };
      emit(tracker.observe(frame.cameraId, info, faces));
    },
    () => {
      stats.dropped++;
    },
  );
};

let closing = false;
const procs: ChildProcess[] = [];
for (const cam of spec.cameras) {
  const args = [
    '-loglevel',
    'error',
    '-rtsp_transport',
    'tcp',
    '-threads',
    '1',
    '-i',
    cam.url,
    '-map',
    '0:v',
    '-vf',
    `fps=${spec.fps},scale=${ANALYSIS_WIDTH}:${ANALYSIS_HEIGHT}`,
    '-pix_fmt',
    'rgb24',
    '-f',
    'rawvideo',
    'pipe:1',
  ];
  const p = spawnFfmpeg(spec.ffmpeg, args, ['ignore', 'pipe', 'ignore']);
  procs.push(p);
  let pending: Buffer[] = [];
  let have = 0;
  let seq = 0;
  p.stdout!.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    have += chunk.length;
    while (have >= frameBytes) {
      const all = Buffer.concat(pending, have);
      const rgb = Buffer.from(all.subarray(0, frameBytes));
      const rest = all.subarray(frameBytes);
      pending = rest.length > 0 ? [rest] : [];
      have = rest.length;
      stats.decoded++;
      analyse({
        cameraId: cam.id,
        width: ANALYSIS_WIDTH,
        height: ANALYSIS_HEIGHT,
        rgb,
        captureTs: Date.now(),
        seq: seq++,
      });
    }
  });
  p.once('exit', () => {
    if (!closing) stats.ffmpegExits++;
  });
}
const sweep = setInterval(() => emit(tracker.sweep(Date.now())), 1000);

const close = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  clearInterval(sweep);
  for (const p of procs) p.kill('SIGKILL');
  emit(tracker.close());
  gate?.close();
  await detector.close();
  process.exit(0);
};
process.on('SIGTERM', () => void close());
process.on('SIGINT', () => void close());
const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim() === 'stats') write({ stats });
});
rl.on('close', () => void close());
write({ ready: true, kind: spec.kind, cameras: spec.cameras.length, pid: process.pid });
