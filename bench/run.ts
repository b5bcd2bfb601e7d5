// `facegate bench`: on this machine, one after another and per workload (city profile), measures
// the gateway (its own process and its ffmpeg decoders), the limit (ffmpeg decoding the same
// streams' keyframes to null), a naive pipeline (one ffmpeg per camera, fps=1, detection on every
// sample) and a Frigate-like peer (fps=5 decode, pixel motion, detection on motion), against a
// simulator in its own process and an embedded broker; optionally the capacity of this machine.
// CPU and memory come from /proc. Sides: bench/sides.ts; report: bench/report.ts.
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.ts';
import { sceneSpec } from '../simulator/index.ts';
import type { BenchDeps, Ctx } from './point.ts';
import { openPoint } from './point.ts';
import { runGateway, runLimit, runPeer } from './sides.ts';
import {
  formatTable,
  type BenchResult,
  type CapacityResult,
  type Profile,
  type SideResult,
  type WorkloadResult,
} from './report.ts';
import { capacityBoundS, runCapacity, type CapacityOptions } from './capacity-run.ts';
import { evaluateGoals } from './goals.ts';
import { compareReports, readReport } from './baseline.ts';
import { writeCharts } from './charts.ts';
import { MB, round, Scope, sleep } from './util.ts';

export { Aborted } from './util.ts';
export { formatTable } from './report.ts';
export type { BenchDeps } from './point.ts';
export type { BenchResult, SideResult } from './report.ts';

export interface BenchOptions {
  cameras: number;
  durationS: number;
  warmupS: number;
  /** Cap of the naive side (it runs one ffmpeg per camera). */
  naiveCameras: number;
  /** Cap of the Frigate-like side (one ffmpeg per camera decoding 5 frames a second). */
  frigateCameras: number;
  /** Camera counts for the gateway and limit sweep (empty: none). */
  sweep: number[];
  /** Inputs per ffmpeg of the limit side. */
  limitInputsPerProcess: number;
  /** Simulator processes, each serving shard k/n of the cameras (1: one whole-city simulator). */
  simulators: number;
  /** Workloads, each a city profile; the first is the default (top-level keys of the report). */
  profiles: Profile[];
  /** Capacity search per workload (absent: none). */
  capacity?: CapacityOptions;
  /** A previous run's JSON to compare with. */
  baseline?: string;
  out: string;
}

export const withProfile = (cfg: Config, profile: Profile): Config => ({
  ...cfg,
  city: { ...cfg.city, profile },
});

const ratio = (a: number, b: number): number => round(a / Math.max(1e-9, b));

async function runWorkload(ctx: Ctx, opts: BenchOptions, profile: Profile): Promise<WorkloadResult> {
  const { deps } = ctx;
  let gateway: SideResult;
  let limit: SideResult;
  let naive: SideResult;
  let frigate: SideResult;
  let cpuProfile: WorkloadResult['cpuProfile'];
  {
    const scope = new Scope();
    try {
      const p = await openPoint(ctx, scope, opts.cameras);
      const g = await runGateway(ctx, p);
      gateway = g.side;
      cpuProfile = g.cpu;
      await sleep(2000, deps.signal);
      limit = await runLimit(ctx, p);
      await sleep(2000, deps.signal);
      naive = await runPeer(ctx, p, 'naive', Math.min(opts.cameras, opts.naiveCameras));
      await sleep(2000, deps.signal);
      frigate = await runPeer(ctx, p, 'frigate', Math.min(opts.cameras, opts.frigateCameras));
    } finally {
      await scope.close(deps.log);
    }
  }
  const sweep: WorkloadResult['sweep'] = [];
  for (const n of opts.sweep) {
    if (n === opts.cameras) {
      sweep.push({ cameras: n, gateway, limit });
      continue;
    }
    const scope = new Scope();
    try {
      const p = await openPoint(ctx, scope, n);
      const g = await runGateway(ctx, p);
      await sleep(2000, deps.signal);
      sweep.push({ cameras: n, gateway: g.side, limit: await runLimit(ctx, p) });
    } finally {
      await scope.close(deps.log);
    }
  }
  sweep.sort((a, b) => a.cameras - b.cameras);
  const gs = gateway.score;
  return {
    profile,
    cameras: opts.cameras,
    gateway,
    limit,
    naive,
    frigate,
    ratios: {
      gatewayToLimit: ratio(gateway.cpuMsPerCameraSecond, limit.cpuMsPerCameraSecond),
      naiveToGateway: ratio(naive.cpuMsPerCameraSecond, gateway.cpuMsPerCameraSecond),
      frigateToGateway: ratio(frigate.cpuMsPerCameraSecond, gateway.cpuMsPerCameraSecond),
    },
    events: {
      recall: round(gs?.recall ?? 0),
      precision: round(gs?.precision ?? 0),
      latencyMsP50: Math.round(gs?.latencyMsP50 ?? 0),
      latencyMsP95: Math.round(gs?.latencyMsP95 ?? 0),
      appearances: gs?.appearances ?? 0,
      starts: gs?.starts ?? 0,
      duplicateStarts: gs?.duplicateStarts ?? 0,
    },
    ...(cpuProfile ? { cpuProfile } : {}),
    sweep,
  };
}

export async function runBench(opts: BenchOptions, deps: BenchDeps): Promise<BenchResult> {
  const say = (s: string): void => {
    deps.stderr.write(`${new Date().toISOString().slice(11, 19)} bench: ${s}\n`);
  };
  const ctxFor = (profile: Profile, durationS = opts.durationS, warmupS = opts.warmupS): Ctx => ({
    cfg: withProfile(deps.cfg, profile),
    deps,
    durationS,
    warmupS,
    simulators: opts.simulators,
    limitInputsPerProcess: opts.limitInputsPerProcess,
    say: (s) => say(`[${profile}] ${s}`),
  });
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    loadavg1: round(loadavg()[0] ?? 0, 2),
    memTotalMb: Math.round(totalmem() / MB),
    memFreeMb: Math.round(freemem() / MB),
    node: process.version,
    ffmpeg: `${deps.ffmpeg.version} (${deps.ffmpeg.source})`,
  };
  if (opts.capacity) {
    const b = await capacityBoundS(opts.capacity);
    const total = b.seconds * opts.profiles.length;
    say(
      `capacity search: per workload at most ${b.gatewayPoints} gateway points (${opts.capacity.gateway.min}..${opts.capacity.gateway.max} cameras)${opts.capacity.frigate ? ` and ${b.frigatePoints} Frigate-like points (${opts.capacity.frigate.min}..${opts.capacity.frigate.max})` : ''}, ${opts.capacity.warmupS} + ${opts.capacity.durationS} s each: at most ${Math.ceil(total / 60)} min for ${opts.profiles.length} workload(s), after the comparison runs`,
    );
  }
  const workloads: BenchResult['workloads'] = {};
  for (const profile of opts.profiles) workloads[profile] = await runWorkload(ctxFor(profile), opts, profile);
  const capacity: Partial<Record<Profile, CapacityResult>> = {};
  if (opts.capacity) {
    const c = opts.capacity;
    for (const profile of opts.profiles)
      capacity[profile] = await runCapacity(ctxFor(profile, c.durationS, c.warmupS), c);
  }
  const def = opts.profiles[0] ?? 'busy';
  const w = workloads[def];
  if (!w) throw new Error('bench: no workload');
  const spec = sceneSpec(deps.cfg);
  const result: BenchResult = {
    version: 2,
    at: new Date().toISOString(),
    profile: def,
    profiles: opts.profiles,
    cameras: opts.cameras,
    simulators: Math.max(1, opts.simulators),
    durationS: opts.durationS,
    warmupS: opts.warmupS,
    machine,
    scenes: {
      count: spec.count,
      seconds: spec.seconds,
      keyframeIntervalS: spec.keyframeIntervalS,
      width: spec.width,
      height: spec.height,
      fps: spec.fps,
    },
    gateway: w.gateway,
    limit: w.limit,
    naive: { ...w.naive, recall: w.naive.recall ?? 0, precision: w.naive.precision ?? 0 },
    frigate: w.frigate,
    ratios: w.ratios,
    events: w.events,
    simulator: { cpuMsPerStreamSecond: w.gateway.simulatorCpuMsPerStreamSecond },
    sweep: w.sweep,
    workloads,
    capacity,
    goals: evaluateGoals(workloads, capacity),
    charts: [],
  };
  if (opts.baseline) result.baseline = compareReports(readReport(opts.baseline), result, opts.baseline);
  mkdirSync(dirname(opts.out) || '.', { recursive: true });
  result.charts = writeCharts(result, opts.out.replace(/\.json$/, ''));
  // v1 readers: `chart` is the gateway/limit sweep chart of the default workload when there is one.
  const sweepChart = result.charts.find((c) => c.includes(`cost-${def}`));
  if (sweepChart && w.sweep.length > 0) result.chart = sweepChart;
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  deps.stdout.write(formatTable(result));
  deps.stdout.write(
    `wrote ${opts.out}${result.charts.length > 0 ? ` and ${result.charts.join(', ')}` : ''}\n`,
  );
  return result;
}
