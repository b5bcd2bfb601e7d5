// CPU and memory of a process tree, from /proc: a side of the benchmark is a process and every
// process it started (ffmpeg decoders), found by scanning /proc/*/stat for parent ids.
import { readdirSync, readFileSync } from 'node:fs';
import { cpuMs, rssBytes } from '../shared/proc.ts';

/** Parent id of every live process. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(name), Number(f[1]));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The given roots and all their live descendants. */
export function processTree(roots: readonly number[]): number[] {
  const pp = parents();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of pp) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: number[] = [];
  const seen = new Set<number>();
  const stack = roots.filter((p) => pp.has(p));
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    out.push(pid);
    for (const c of children.get(pid) ?? []) stack.push(c);
  }
  return out;
}

/**
 * Measures the CPU a process tree uses between start() and stop(): per-process deltas, so that
 * processes appearing during the window count from zero and processes leaving keep their last value.
 * It also samples the tree's total RSS (peak) while running.
 */
export interface TreeMeter {
  /** Samples now (call every second or so). */
  sample(): void;
  cpuMs(): number;
  peakRssBytes(): number;
  pids(): number;
}

export function treeMeter(roots: () => readonly number[]): TreeMeter {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  let peak = 0;
  let maxPids = 0;
  const sample = (): void => {
    const pids = processTree(roots());
    let rss = 0;
    for (const pid of pids) {
      const c = cpuMs(pid);
      if (c === undefined) continue;
      // Processes born inside the window count from zero (their CPU is all in it).
      if (!first.has(pid)) first.set(pid, started ? 0 : c);
      last.set(pid, c);
      rss += rssBytes(pid) ?? 0;
    }
    peak = Math.max(peak, rss);
    maxPids = Math.max(maxPids, pids.length);
  };
  let started = false;
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
    pids: () => maxPids,
  };
}
