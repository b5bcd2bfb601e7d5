// Where a gateway's CPU goes, from /proc: per thread of the gateway process
// (/proc/<pid>/task/*/stat) and per child process (its ffmpeg decoders). Node 20 does not name
// worker threads, so the detection workers are found as the busiest threads born after start-up
// (the V8 platform and libuv threads start with the process); the motion gate runs on the main
// thread and is split off by its measured cost per frame times the frames it checked.
import { readdirSync, readFileSync } from 'node:fs';
import { createMotionGate } from '../gateway/motion.ts';
import { ANALYSIS_HEIGHT, ANALYSIS_WIDTH } from '../gateway/frame.ts';
import { processTree } from './proc-tree.ts';
import type { IngestKind } from './wiring.ts';
import { round } from './util.ts';

const TICK_MS = 10;

interface TaskStat {
  cpuMs: number;
  /** Start time in clock ticks since boot. */
  start: number;
  comm: string;
}

function readStat(path: string): TaskStat | undefined {
  try {
    const s = readFileSync(path, 'utf8');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    return {
      cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS,
      start: Number(f[19]),
      comm: s.slice(s.indexOf('(') + 1, close),
    };
  } catch {
    return undefined;
  }
}

function threads(pid: number): Map<number, TaskStat> {
  const out = new Map<number, TaskStat>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tids) {
    const st = readStat(`/proc/${pid}/task/${t}/stat`);
    if (st) out.set(Number(t), st);
  }
  return out;
}

/** CPU ms of the window by part; `motion` is an estimate carved out of `main`. */
export interface CpuParts {
  totalMs: number;
  parts: { name: string; ms: number; share: number }[];
  /** Cross-check of the detection share: frames analysed x the gateway's own inference p50. */
  detectionMsFromInference?: number;
  note: string;
}

export interface PartsMeter {
  sample(): void;
  result(o: { framesChecked: number; motionMsPerFrame: number; ingest: IngestKind }): CpuParts;
}

export function partsMeter(pid: number, detectorThreads: number): PartsMeter {
  let first: { threads: Map<number, TaskStat>; children: Map<number, TaskStat> } | undefined;
  let last = first;
  const sample = (): void => {
    const children = new Map<number, TaskStat>();
    for (const c of processTree([pid])) {
      if (c === pid) continue;
      const st = readStat(`/proc/${c}/stat`);
      if (st) children.set(c, st);
    }
    const now = { threads: threads(pid), children };
    first ??= now;
    last = now;
  };
  sample();
  return {
    sample,
    result({ framesChecked, motionMsPerFrame, ingest }) {
      const a = first;
      const b = last;
      const delta = (m0: Map<number, TaskStat> | undefined, id: number, st: TaskStat): number =>
        st.cpuMs - (m0?.get(id)?.cpuMs ?? 0);
      const mainStart = b?.threads.get(pid)?.start ?? 0;
      let main = 0;
      const late: number[] = [];
      let early = 0;
      for (const [tid, st] of b?.threads ?? []) {
        const d = delta(a?.threads, tid, st);
        if (tid === pid) main = d;
        // Born more than a second after the process: a worker thread (or onnxruntime's own).
        else if (st.start > mainStart + 100) late.push(d);
        else early += d;
      }
      late.sort((x, y) => y - x);
      const detection = late.slice(0, detectorThreads).reduce((s, x) => s + x, 0);
      const otherLate = late.slice(detectorThreads).reduce((s, x) => s + x, 0);
      let decoders = 0;
      let otherProcs = 0;
      for (const [c, st] of b?.children ?? []) {
        if (/ffmpeg/.test(st.comm)) decoders += delta(a?.children, c, st);
        else otherProcs += delta(a?.children, c, st);
      }
      const motion = Math.min(main, framesChecked * motionMsPerFrame);
      const mainLabel =
        ingest === 'rtsp'
          ? 'JS main thread: RTP receive, activity gate, scheduling, tracker, publish'
          : 'JS main thread: frame reading, scheduling, tracker, publish';
      const raw: [string, number][] = [
        [mainLabel, main - motion],
        ['motion gate (main thread, estimated)', motion],
        [`detection workers (${detectorThreads} thread${detectorThreads > 1 ? 's' : ''})`, detection],
        ['decoders (ffmpeg processes)', decoders],
        ['V8/libuv helper threads (GC, compiler, pool)', early + otherLate],
        ...(otherProcs > 0 ? [['other child processes', otherProcs] as [string, number]] : []),
      ];
      const totalMs = raw.reduce((s, [, ms]) => s + ms, 0);
      return {
        totalMs: Math.round(totalMs),
        parts: raw.map(([name, ms]) => ({
          name,
          ms: Math.round(ms),
          share: round(ms / Math.max(1, totalMs), 3),
        })),
        note: `per-thread CPU from /proc/<pid>/task; detection = the ${detectorThreads} busiest threads born after start-up; motion = frames checked x ${motionMsPerFrame.toFixed(3)} ms measured in the bench`,
      };
    },
  };
}

/** Cost of one motion-gate check on a 320x240 frame, measured here (ms). */
export function motionMsPerFrame(): number {
  const gate = createMotionGate({ threshold: 2, forceEveryS: 5 });
  const size = ANALYSIS_WIDTH * ANALYSIS_HEIGHT * 3;
  const frames = [0, 1].map((k) => {
    const rgb = Buffer.alloc(size);
    for (let i = 0; i < size; i++) rgb[i] = (i * 31 + k * 17) & 0xff;
    return rgb;
  });
  const n = 200;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const rgb = frames[i % 2] ?? Buffer.alloc(size);
    gate.check({
      cameraId: 'c',
      width: ANALYSIS_WIDTH,
      height: ANALYSIS_HEIGHT,
      rgb,
      captureTs: i * 200,
      seq: i,
    });
  }
  gate.close();
  return (performance.now() - t0) / n;
}
