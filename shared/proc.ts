// CPU and memory of processes from /proc (Linux), for stats and the benchmark.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms (user + system) used so far by a process, or undefined when it is gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces: it ends at the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * Proportional set size: resident pages, each shared page divided among the processes sharing it.
 * Summed over a process tree it counts the libraries its ffmpeg processes share once, which summed
 * RSS counts once per process (five decoders: 40 MB of the same libavcodec pages five times).
 */
export function pssBytes(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory in bytes, or undefined when the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Tracks CPU % of a changing set of processes between calls (100 = one core). */
export function createCpuMeter(): (pids: readonly number[]) => number {
  const last = new Map<number, number>();
  let lastAt = performance.now();
  return (pids) => {
    const now = performance.now();
    let used = 0;
    const seen = new Map<number, number>();
    for (const pid of pids) {
      const ms = cpuMs(pid);
      if (ms === undefined) continue;
      seen.set(pid, ms);
      used += ms - (last.get(pid) ?? ms);
    }
    last.clear();
    for (const [p, v] of seen) last.set(p, v);
    const span = now - lastAt;
    lastAt = now;
    return span > 0 ? Math.round((used / span) * 1000) / 10 : 0;
  };
}

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
