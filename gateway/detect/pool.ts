// A fixed set of inference worker threads. Each worker takes one frame at a time; callers that
// find every worker busy wait in a bounded queue, and beyond it are refused (counted), never queued.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import type { Frame } from '../frame.ts';
import type { Logger } from '../../shared/log.ts';
import type { Detection } from './ultraface.ts';
import type { DetectRequest, WorkerInit, WorkerReply } from './protocol.ts';
import { SampleWindow, type Summary } from '../analysis/window.ts';

export type DetectorErrorCode =
  | 'DETECTOR_BUSY'
  | 'DETECTOR_CLOSED'
  | 'DETECTOR_FAILED'
  | 'DETECTOR_BAD_FRAME';

export class DetectorError extends Error {
  constructor(
    readonly code: DetectorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DetectorError';
  }
}

/** What the analysis stage needs from a detector: the real pool, or a fake in tests. */
export interface Detector {
  /** Frames that can be in flight at once without waiting. */
  readonly capacity: number;
  /** While in flight, `frame.rgb` may be detached (transferred); it is restored on settle. */
  detect(frame: Frame): Promise<Detection[]>;
  close(): Promise<void>;
}

export interface DetectorPoolOptions {
  modelPath: string;
  /** Worker threads, each with its own ONNX session. */
  threads: number;
  /** onnxruntime intra-op threads per worker; 1 keeps one worker to one core. */
  intraOpThreads?: number;
  scoreThreshold: number;
  nmsIou?: number;
  /** Callers that may wait for a worker; beyond this, detect() rejects with DETECTOR_BUSY. */
  maxQueue?: number;
}

export interface DetectorPoolStats {
  threads: number;
  busy: number;
  queued: number;
  completed: number;
  failed: number;
  refused: number;
  restarts: number;
  inferenceMs: Summary;
}

export interface DetectorPool extends Detector {
  stats(): DetectorPoolStats;
}

interface Job {
  frame: Frame;
  resolve: (d: Detection[]) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job: Job | undefined;
  jobId: number;
}

const WORKER_URL = new URL('./worker.ts', import.meta.url).href;

/**
 * The worker is TypeScript. Node 20 will not load a .ts worker even with `--import tsx` in its
 * execArgv, so a two-line bootstrap registers tsx inside the worker and then imports it. This works
 * under `node --import tsx` (tests) and under the CLI's `register()` alike.
 */
function spawnWorker(init: WorkerInit): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const src = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
  return new Worker(src, { eval: true, workerData: init, name: 'facegate-detector' });
}

export async function createDetectorPool(
  opts: DetectorPoolOptions,
  deps: { log: Logger },
): Promise<DetectorPool> {
  if (!existsSync(opts.modelPath))
    throw new DetectorError('DETECTOR_FAILED', `model not found: ${opts.modelPath}`);
  // onnxruntime 1.30's Linux build carries Microsoft's 1DS telemetry, which keeps a database under
  // ~/.cache/Microsoft/DeveloperTools and a /tmp/mat-debug-<pid>.log (found by test/privacy-city's
  // open-file check). Its switch is read from the real environment when the runtime starts in the
  // worker, so it is set here, in the process, before the first worker: a write, not a setting.
  process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
  const log = deps.log.child({ component: 'detector' });
  const init: WorkerInit = {
    modelPath: opts.modelPath,
    intraOpThreads: opts.intraOpThreads ?? 1,
    scoreThreshold: opts.scoreThreshold,
    nmsIou: opts.nmsIou ?? 0.3,
  };
  const threads = Math.max(1, Math.floor(opts.threads));
  const maxQueue = opts.maxQueue ?? threads;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  const window = new SampleWindow(512);
  const counts = { completed: 0, failed: 0, refused: 0, restarts: 0 };
  let closed = false;
  let nextId = 1;
  const timers = new Set<NodeJS.Timeout>();

  // Before the pool is created, a worker that dies fails the creation; after, it is respawned,
  // backing off while it keeps dying before it is ready (a model that cannot load must not spin).
  let created = false;
  function start(index: number, backoffMs: number): Promise<void> {
    const worker = spawnWorker(init);
    const slot: Slot = { worker, ready: false, job: undefined, jobId: 0 };
    slots[index] = slot;
    let lastError = '';
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') {
          slot.ready = true;
          backoffMs = 0;
          resolve();
          pump();
        } else if (msg.type === 'fatal') {
          lastError = msg.message;
          log.error({ reason: msg.message, worker: index }, 'detector model failed to load');
          void worker.terminate();
        } else {
          onResult(slot, msg);
        }
      });
      worker.on('error', (err) => {
        lastError = err.message;
        log.error({ err, worker: index }, 'detector worker failed');
      });
      worker.on('exit', (code) => {
        failJob(slot, `detector worker exited (${code})`);
        reject(new DetectorError('DETECTOR_FAILED', lastError || `detector worker exited (${code})`));
        if (closed || !created || slots[index] !== slot) return;
        const wait = Math.min(30_000, Math.max(1000, backoffMs * 2));
        counts.restarts++;
        const t = setTimeout(() => {
          timers.delete(t);
          if (!closed) start(index, wait).catch(() => undefined);
        }, wait);
        timers.add(t);
      });
    });
  }

  function onResult(slot: Slot, msg: Extract<WorkerReply, { type: 'result' | 'error' }>): void {
    const job = slot.job;
    if (!job || msg.id !== slot.jobId) return;
    slot.job = undefined;
    job.frame.rgb = Buffer.from(msg.pixels, 0, msg.pixels.byteLength);
    if (msg.type === 'result') {
      counts.completed++;
      window.add(msg.ms);
      job.resolve(msg.detections);
    } else {
      counts.failed++;
      job.reject(new DetectorError('DETECTOR_FAILED', msg.message));
    }
    pump();
  }

  function failJob(slot: Slot, why: string): void {
    const job = slot.job;
    slot.job = undefined;
    slot.ready = false;
    if (!job) return;
    counts.failed++;
    job.reject(new DetectorError(closed ? 'DETECTOR_CLOSED' : 'DETECTOR_FAILED', why));
  }

  function send(slot: Slot, job: Job): void {
    const { rgb, width, height } = job.frame;
    // Transfer the frame's memory when it owns a whole ArrayBuffer; a view into a larger pooled
    // buffer is copied once instead (transferring it would detach its neighbours).
    const owns =
      rgb.byteOffset === 0 && rgb.byteLength === rgb.buffer.byteLength && rgb.buffer instanceof ArrayBuffer;
    const pixels = owns ? (rgb.buffer as ArrayBuffer) : new Uint8Array(rgb).buffer;
    const id = nextId++;
    slot.job = job;
    slot.jobId = id;
    const req: DetectRequest = { id, width, height, pixels, byteOffset: 0, byteLength: pixels.byteLength };
    slot.worker.postMessage(req, [pixels]);
  }

  function pump(): void {
    for (const slot of slots) {
      if (queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = queue.shift();
      if (job) send(slot, job);
    }
  }

  function detect(frame: Frame): Promise<Detection[]> {
    if (closed) return Promise.reject(new DetectorError('DETECTOR_CLOSED', 'detector pool is closed'));
    if (frame.rgb.length !== frame.width * frame.height * 3 || frame.width <= 0 || frame.height <= 0) {
      return Promise.reject(
        new DetectorError(
          'DETECTOR_BAD_FRAME',
          `frame ${frame.width}x${frame.height} has ${frame.rgb.length} bytes`,
        ),
      );
    }
    const idle = slots.filter((s) => s.ready && !s.job).length;
    if (queue.length >= maxQueue + idle) {
      counts.refused++;
      return Promise.reject(
        new DetectorError('DETECTOR_BUSY', 'all detector workers busy and the queue is full'),
      );
    }
    return new Promise<Detection[]>((resolve, reject) => {
      queue.push({ frame, resolve, reject });
      pump();
    });
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    for (const t of timers) clearTimeout(t);
    for (const job of queue.splice(0))
      job.reject(new DetectorError('DETECTOR_CLOSED', 'detector pool closed'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  try {
    await Promise.all(Array.from({ length: threads }, (_, i) => start(i, 0)));
  } catch (err) {
    await close();
    throw err;
  }
  created = true;
  log.info({ threads, intraOpThreads: init.intraOpThreads }, 'detector ready');

  return {
    capacity: threads,
    detect,
    close,
    stats: () => ({
      threads,
      busy: slots.filter((s) => s.job).length,
      queued: queue.length,
      ...counts,
      inferenceMs: window.summary(),
    }),
  };
}
