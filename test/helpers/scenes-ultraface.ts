// A minimal UltraFace runner for the scene tests (the gateway has its own detector; the tests
// must not depend on it). Frames come in as 320x240 RGB24.
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';

export const MODEL_W = 320;
export const MODEL_H = 240;

export interface Detection {
  score: number;
  /** Normalised x1, y1, x2, y2 turned into a top-left box. */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FaceDetector {
  detect(rgb: Uint8Array): Promise<Detection[]>;
  close(): Promise<void>;
}

export function iou(
  a: { x: number; y: number; w: number; h: number },
  b: { x: number; y: number; w: number; h: number },
): number {
  const ix = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const iy = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = ix * iy;
  const union = a.w * a.h + b.w * b.h - inter;
  return union > 0 ? inter / union : 0;
}

export async function createDetector(minScore = 0.3): Promise<FaceDetector> {
  const model = fileURLToPath(new URL('../../assets/models/ultraface-rfb-320.onnx', import.meta.url));
  const session = await InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const plane = MODEL_W * MODEL_H;
  const input = new Float32Array(3 * plane);
  return {
    async detect(rgb) {
      if (rgb.length !== 3 * plane) throw new Error(`expected ${3 * plane} bytes, got ${rgb.length}`);
      for (let i = 0; i < plane; i++) {
        input[i] = ((rgb[3 * i] ?? 0) - 127) / 128;
        input[plane + i] = ((rgb[3 * i + 1] ?? 0) - 127) / 128;
        input[2 * plane + i] = ((rgb[3 * i + 2] ?? 0) - 127) / 128;
      }
      const out = await session.run({ input: new Tensor('float32', input, [1, 3, MODEL_H, MODEL_W]) });
      const scores = out['scores']?.data as Float32Array;
      const boxes = out['boxes']?.data as Float32Array;
      const cands: Detection[] = [];
      for (let i = 0; i < scores.length / 2; i++) {
        const s = scores[2 * i + 1] ?? 0;
        if (s < minScore) continue;
        const x1 = boxes[4 * i] ?? 0;
        const y1 = boxes[4 * i + 1] ?? 0;
        cands.push({
          score: s,
          x: x1,
          y: y1,
          w: (boxes[4 * i + 2] ?? 0) - x1,
          h: (boxes[4 * i + 3] ?? 0) - y1,
        });
      }
      // Greedy NMS at IoU 0.3, as PROVENANCE.md suggests.
      cands.sort((a, b) => b.score - a.score);
      const kept: Detection[] = [];
      for (const c of cands) if (kept.every((k) => iou(k, c) <= 0.3)) kept.push(c);
      return kept;
    },
    async close() {
      await session.release();
    },
  };
}
