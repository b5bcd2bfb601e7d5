// Small helpers of the benchmark: abortable waits, rounding and a scope of things to close.
import type { Logger } from '../shared/log.ts';

export class Aborted extends Error {
  constructor() {
    super('benchmark interrupted');
    this.name = 'Aborted';
  }
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Aborted());
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects when aborted; with timeoutMs, resolves (undefined) after it. Leaves no timer behind. */
export function abortable<T>(p: Promise<T>, signal: AbortSignal, timeoutMs?: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    let t: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(new Aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined)
      t = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

export const round = (x: number, d = 3): number =>
  Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : 0;
export const MB = 1024 * 1024;

/** Things to close, last opened first; closing twice is harmless. */
export class Scope {
  private items: { name: string; close: () => Promise<void> }[] = [];
  add(name: string, close: () => Promise<void>): void {
    this.items.push({ name, close });
  }
  async close(log: Logger): Promise<void> {
    for (const it of this.items.reverse()) {
      try {
        await it.close();
      } catch (err) {
        log.warn({ component: it.name, err: (err as Error).message }, 'bench: close failed');
      }
    }
    this.items = [];
  }
}
