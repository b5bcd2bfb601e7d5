// The naive pipeline, run as its own process by the benchmark: one ffmpeg per camera decoding
// every frame, `fps=1` to 320x240 RGB on stdout, and detection on every sampled frame (one
// detector thread), the tracker turning detections into events.
//
//   node --import tsx bench/naive-child.ts '<json NaiveSpec>'
// stdout: {"ready":...}, then {"event":FaceEvent,"arrivedAt":ms} lines; stdin "stats" -> {"stats":...}.
// Ends (closing every ffmpeg) when stdin closes or on SIGTERM/SIGINT.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { spawnFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';
import { createLogger } from '../shared/log.ts';
import { createDetectorPool } from '../gateway/detect/pool.ts';
import { createTracker, type FaceEvent } from '../gateway/tracker.ts';
import { ANALYSIS_HEIGHT, ANALYSIS_WIDTH, type Frame } from '../gateway/frame.ts';

export interface NaiveSpec {
  cameras: { id: string; url: string }[];
  ffmpeg: FfmpegBinary;
  modelPath: string;
  scoreThreshold: number;
  confirmHits: number;
  endAfterS: number;
}

export interface NaiveStats {
  decoded: number;
  analysed: number;
  dropped: number;
  ffmpegExits: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as NaiveSpec;
const log = createLogger({ level: 'warn', format: 'json' });
const frameBytes = ANALYSIS_WIDTH * ANALYSIS_HEIGHT * 3;
const stats: NaiveStats = { decoded: 0, analysed: 0, dropped: 0, ffmpegExits: 0 };
const write = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};

const detector = await createDetectorPool(
  {
    modelPath: spec.modelPath,
    threads: 1,
    intraOpThreads: 1,
    scoreThreshold: spec.scoreThreshold,
    maxQueue: Math.max(1, spec.cameras.length),
  },
  { log },
);
const tracker = createTracker({
  gatewayId: 'naive',
  confirmHits: spec.confirmHits,
  endAfterS: spec.endAfterS,
});
const emit = (events: readonly FaceEvent[]): void => {
  const now = Date.now();
  for (const event of events) write({ event, arrivedAt: now });
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
    `fps=1,scale=${ANALYSIS_WIDTH}:${ANALYSIS_HEIGHT}`,
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
      const frame: Frame = {
        cameraId: cam.id,
        width: ANALYSIS_WIDTH,
        height: ANALYSIS_HEIGHT,
        rgb,
        captureTs: Date.now(),
        seq: seq++,
      };
      detector.detect(frame).then(
        (dets) => {
          stats.analysed++;
          emit(
            tracker.observe(
              cam.id,
              { captureTs: frame.captureTs, width: frame.width, height: frame.height },
              dets,
            ),
          );
        },
        () => {
          stats.dropped++;
        },
      );
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
write({ ready: true, cameras: spec.cameras.length, pid: process.pid });
