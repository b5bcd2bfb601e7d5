// One ordered, time-bounded shutdown for SIGINT, SIGTERM and fatal errors. A second signal exits
// at once (as close-with-grace does).
import type { Logger } from '../shared/log.ts';

export interface Closable {
  name: string;
  close(): Promise<void> | void;
}

export interface ShutdownOptions {
  /** Whole shutdown deadline; what has not closed by then is abandoned. */
  timeoutMs: number;
  log: Logger;
  /** For tests: the process-like object that emits signals and exits. */
  proc?: Pick<NodeJS.Process, 'on' | 'off' | 'exit'>;
}

/** Closes in the given order, each bounded by what is left of the deadline. */
export async function closeAll(items: readonly Closable[], timeoutMs: number, log: Logger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let clean = true;
  for (const item of items) {
    const left = deadline - Date.now();
    if (left <= 0) {
      log.warn({ component: item.name }, 'shutdown deadline passed; not waiting for it');
      clean = false;
      continue;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), left)));
    try {
      const res = await Promise.race([Promise.resolve(item.close()).then(() => 'ok' as const), timedOut]);
      if (res === 'timeout') {
        log.warn({ component: item.name }, 'did not close in time');
        clean = false;
      }
    } catch (err) {
      log.warn({ component: item.name, err }, 'error while closing');
      clean = false;
    } finally {
      clearTimeout(timer);
    }
  }
  return clean;
}

/**
 * Resolves with an exit code when a signal arrived and everything closed (0), or closed
 * late/badly (1). A second signal exits the process at once with 130.
 */
export function untilSignal(items: () => readonly Closable[], opts: ShutdownOptions): Promise<number> {
  const proc = opts.proc ?? process;
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (stopping) {
        opts.log.warn({ signal: sig }, 'second signal: exiting now');
        proc.exit(130);
        return;
      }
      stopping = true;
      opts.log.info({ signal: sig }, 'shutting down');
      void closeAll(items(), opts.timeoutMs, opts.log).then((clean) => {
        proc.off('SIGINT', onSignal);
        proc.off('SIGTERM', onSignal);
        resolve(clean ? 0 : 1);
      });
    };
    proc.on('SIGINT', onSignal);
    proc.on('SIGTERM', onSignal);
  });
}
