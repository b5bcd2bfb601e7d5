// Inference thread: the only file that imports onnxruntime-node. `session.run()` is a native
// call that can hold a core for milliseconds, so it never runs on the main event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { decode, toInput, INPUT_HEIGHT, INPUT_SIZE, INPUT_WIDTH } from './ultraface.ts';
import type { DetectRequest, WorkerInit, WorkerReply } from './protocol.ts';

const port = parentPort;
if (!port) throw new Error('gateway/detect/worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function reply(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(msg, transfer);
}

const input = new Float32Array(INPUT_SIZE); // reused: one request at a time per worker
let session: InferenceSession | undefined;

try {
  session = await InferenceSession.create(init.modelPath, {
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  reply({ type: 'ready' });
} catch (err) {
  reply({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
}

port.on('message', (req: DetectRequest) => {
  void run(req);
});

async function run(req: DetectRequest): Promise<void> {
  try {
    if (!session) throw new Error('model not loaded');
    const t0 = performance.now();
    toInput(new Uint8Array(req.pixels, req.byteOffset, req.byteLength), req.width, req.height, input);
    const feeds = { input: new Tensor('float32', input, [1, 3, INPUT_HEIGHT, INPUT_WIDTH]) };
    const out = await session.run(feeds);
    const scores = out['scores']?.data;
    const boxes = out['boxes']?.data;
    if (!(scores instanceof Float32Array) || !(boxes instanceof Float32Array))
      throw new Error('model outputs scores/boxes missing');
    const detections = decode(scores, boxes, { scoreThreshold: init.scoreThreshold, nmsIou: init.nmsIou });
    reply({ type: 'result', id: req.id, detections, ms: performance.now() - t0, pixels: req.pixels }, [
      req.pixels,
    ]);
  } catch (err) {
    reply(
      {
        type: 'error',
        id: req.id,
        message: err instanceof Error ? err.message : String(err),
        pixels: req.pixels,
      },
      [req.pixels],
    );
  }
}
