// A fixed-size window of recent samples (e.g. inference ms): avg and p95 without unbounded growth.

export interface Summary {
  count: number;
  avg: number;
  p50: number;
  p95: number;
}

export class SampleWindow {
  readonly #buf: Float64Array;
  #n = 0;
  #next = 0;

  constructor(size = 256) {
    this.#buf = new Float64Array(size);
  }

  add(v: number): void {
    this.#buf[this.#next] = v;
    this.#next = (this.#next + 1) % this.#buf.length;
    if (this.#n < this.#buf.length) this.#n++;
  }

  summary(): Summary {
    if (this.#n === 0) return { count: 0, avg: 0, p50: 0, p95: 0 };
    const xs = this.#buf.slice(0, this.#n).sort();
    let sum = 0;
    for (const x of xs) sum += x;
    const at = (q: number): number => xs[Math.min(this.#n - 1, Math.max(0, Math.ceil(q * this.#n) - 1))] ?? 0;
    return { count: this.#n, avg: round(sum / this.#n), p50: round(at(0.5)), p95: round(at(0.95)) };
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
