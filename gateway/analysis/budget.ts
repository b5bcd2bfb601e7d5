// The inference budget as a token bucket: `burst` inferences back to back after a quiet spell,
// then `perS` a second; kept apart from the scheduler so its arithmetic reads (and tests) alone.
export class TokenBucket {
  #tokens: number;
  #refilledAt: number;
  readonly #rate: number; // tokens per ms
  readonly #burst: number;
  readonly #now: () => number;

  constructor(perS: number, burst: number, now: () => number) {
    this.#rate = perS / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#refilledAt = now();
  }

  refill(): void {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (t - this.#refilledAt) * this.#rate);
    this.#refilledAt = t;
  }

  /** Less than one whole token left. */
  empty(): boolean {
    return this.#tokens < 1;
  }

  take(): void {
    this.#tokens -= 1;
  }

  /** A token spent on a frame that gave nothing to analyse comes back. */
  giveBack(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + 1);
  }

  /** Ms until the next whole token. */
  msToNext(): number {
    return Math.ceil((1 - this.#tokens) / this.#rate);
  }
}
