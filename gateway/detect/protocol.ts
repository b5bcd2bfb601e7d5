// Messages between the detector pool (main thread) and its workers.
import type { Detection } from './ultraface.ts';

export interface WorkerInit {
  modelPath: string;
  intraOpThreads: number;
  scoreThreshold: number;
  nmsIou: number;
}

export interface DetectRequest {
  id: number;
  width: number;
  height: number;
  /** Transferred; comes back in the reply so the caller keeps its pixels without a copy. */
  pixels: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'fatal'; message: string }
  | { type: 'result'; id: number; detections: Detection[]; ms: number; pixels: ArrayBuffer }
  | { type: 'error'; id: number; message: string; pixels: ArrayBuffer };
