// Ground truth on <prefix>/truth/<camera> (opt-in, simulator.publishTruth): when an appearance
// starts and ends, face or not, for the benchmark and for checking recall by hand.
import { z } from 'zod';

export const truthSchema = z.object({
  v: z.literal(1),
  type: z.enum(['start', 'end']),
  camera: z.string().min(1).max(128),
  /** Clip appearance id and loop number: stable across the two messages. */
  appearance: z.string().min(1).max(256),
  isFace: z.boolean(),
  /** The asset: `astronaut`, or a distractor such as `chelsea` (cat), `door`, `pet`. */
  kind: z.string().max(64),
  ts: z.string().max(64),
});
export type Truth = z.infer<typeof truthSchema>;
