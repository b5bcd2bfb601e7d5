// CPU and memory of a process tree, from /proc: a side of the benchmark is a process and every
// process it started (ffmpeg decoders), found by scanning /proc/*/stat for parent ids.
import { cpuMs, processTree, pssBytes, rssBytes } from '../shared/proc.ts';

export { processTree };

/**
 * Measures the CPU a process tree uses between start() and stop(): per-process deltas, so that
 * processes appearing during the window count from zero and processes leaving keep their last value.
 * It also samples the tree's total RSS and PSS (peaks) while running.
 */
export interface TreeMeter {
  /** Samples now (call every second or so). */
  sample(): void;
  cpuMs(): number;
  peakRssBytes(): number;
  /** Peak summed PSS: shared pages (the decoders' libraries) counted once across the tree. */
  peakPssBytes(): number;
  pids(): number;
}

export function treeMeter(roots: () => readonly number[]): TreeMeter {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let peak = 0;
  let peakPss = 0;
  let maxPids = 0;
  const sample = (): void => {
    const pids = processTree(roots());
    let rss = 0;
    let pss = 0;
    for (const pid of pids) {
      const c = cpuMs(pid);
      if (c === undefined) continue;
      // Processes born inside the window count from zero (their CPU is all in it).
      if (!first.has(pid)) first.set(pid, started ? 0 : c);
      last.set(pid, c);
      rss += rssBytes(pid) ?? 0;
      pss += pssBytes(pid) ?? 0;
    }
    peak = Math.max(peak, rss);
    peakPss = Math.max(peakPss, pss);
    maxPids = Math.max(maxPids, pids.length);
  };
  let started: boolean = false;
  sample();
  started = true;
  return {
    sample,
    cpuMs: () => {
      let sum = 0;
      for (const [pid, c] of last) sum += c - (first.get(pid) ?? c);
      return sum;
    },
    peakRssBytes: () => peak,
    peakPssBytes: () => peakPss,
    pids: () => maxPids,
  };
}
