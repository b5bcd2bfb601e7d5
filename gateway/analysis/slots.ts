// Per-camera latest-frame slots (capacity 1) and the ready order of cameras with a frame waiting.
// A newer frame replaces an unanalysed older one in place, so memory is one frame per camera
// however far the detector falls behind.
import type { Frame, PendingFrame } from '../frame.ts';
import { SampleWindow, type Summary } from './window.ts';

/** `lost`: a pending (compressed) frame that the decoder did not give back. */
export type DropReason = 'superseded' | 'motion' | 'error' | 'removed' | 'closed' | 'lost';
export const DROP_REASONS: readonly DropReason[] = [
  'superseded',
  'motion',
  'error',
  'removed',
  'closed',
  'lost',
];

export interface CameraCounters {
  offered: number;
  analysed: number;
  /** Analysed frames with at least one face. */
  withFaces: number;
  /** Pending (compressed) frames replaced or left before their turn: never decoded. */
  discarded: number;
  dropped: Record<DropReason, number>;
}

export interface CameraStats extends CameraCounters {
  inFlight: number;
  inferenceMs: Summary;
}

export function emptyCounters(): CameraCounters {
  return {
    offered: 0,
    analysed: 0,
    withFaces: 0,
    discarded: 0,
    dropped: { superseded: 0, motion: 0, error: 0, removed: 0, closed: 0, lost: 0 },
  };
}

export function isPending(f: Frame | PendingFrame): f is PendingFrame {
  return 'load' in f;
}

export class CameraSlot {
  /** The newest frame not yet taken: decoded, or (rtsp ingest) still compressed. */
  frame: Frame | PendingFrame | undefined;
  busy: boolean = false;
  /** The waiting frame (or one it replaced) is urgent: the camera waits in the urgent lane. */
  urgent: boolean = false;
  lastHadFaces: boolean = false;
  readonly counters = emptyCounters();
  readonly ms = new SampleWindow(64);

  constructor(readonly id: string) {}

  stats(): CameraStats {
    return {
      ...this.counters,
      dropped: { ...this.counters.dropped },
      inFlight: this.busy ? 1 : 0,
      inferenceMs: this.ms.summary(),
    };
  }
}

/**
 * Cameras whose slot holds a frame and that have nothing in flight, oldest first, in two lanes:
 * urgent ones (a face may have just come in) before the others. A camera is in it at most once
 * (a Set keeps insertion order), so under overload each lane goes round-robin: a camera just
 * served rejoins at the tail. Bounded by the number of cameras.
 */
export class ReadyRing {
  readonly #urgent = new Set<string>();
  readonly #normal = new Set<string>();

  /** Already waiting: keeps its place, unless it moves up to the urgent lane. */
  add(id: string, urgent = false): void {
    if (urgent) {
      this.#normal.delete(id);
      this.#urgent.add(id);
    } else if (!this.#urgent.has(id)) this.#normal.add(id);
  }

  #lane(): Set<string> {
    return this.#urgent.size > 0 ? this.#urgent : this.#normal;
  }

  peek(): string | undefined {
    const first = this.#lane().values().next();
    return first.done ? undefined : first.value;
  }

  delete(id: string): void {
    this.#urgent.delete(id);
    this.#normal.delete(id);
  }

  shift(): string | undefined {
    const lane = this.#lane();
    const first = lane.values().next();
    if (first.done) return undefined;
    lane.delete(first.value);
    return first.value;
  }

  get size(): number {
    return this.#urgent.size + this.#normal.size;
  }
}
