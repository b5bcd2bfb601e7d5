// `facegate bench --capacity`: per workload, the largest camera count at which the gateway keeps
// recall >= 0.95 and start latency p95 <= 2.5 s, each point a fresh simulator (its own process),
// broker and gateway measured for the capacity duration after its warm-up; then the same for the
// Frigate-like peer within its own (smaller) bounds. The search is bounded (bench/capacity.ts).
import type { Ctx } from './point.ts';
import { openPoint } from './point.ts';
import { runGateway, runPeer } from './sides.ts';
import type { CapacityOfSide, CapacityResult, SideResult } from './report.ts';
import { searchCapacity, worstCasePoints, type SearchOptions } from './capacity.ts';
import { Scope } from './util.ts';

export interface CapacityOptions {
  gateway: SearchOptions;
  /** Absent: the Frigate-like peer is not searched. */
  frigate?: SearchOptions;
  durationS: number;
  warmupS: number;
}

export const CRITERIA = { recallMin: 0.95, latencyMsP95Max: 2500 };

/** Start-up of a point (simulator, gateway, cameras online), estimated for the bound. */
const startupS = (n: number): number => 20 + n * 0.05;

/** Upper bound of the search's wall time, in seconds, for one workload. */
export async function capacityBoundS(
  o: CapacityOptions,
): Promise<{ gatewayPoints: number; frigatePoints: number; seconds: number }> {
  const per = (n: number): number => startupS(n) + o.warmupS + o.durationS + 8;
  const gatewayPoints = await worstCasePoints(o.gateway);
  const frigatePoints = o.frigate ? await worstCasePoints(o.frigate) : 0;
  const seconds = gatewayPoints * per(o.gateway.max) + (o.frigate ? frigatePoints * per(o.frigate.max) : 0);
  return { gatewayPoints, frigatePoints, seconds: Math.ceil(seconds) };
}

const passes = (s: SideResult): boolean =>
  (s.recall ?? 0) >= CRITERIA.recallMin &&
  (s.latencyMsP95 ?? Number.POSITIVE_INFINITY) <= CRITERIA.latencyMsP95Max;

async function searchSide(ctx: Ctx, kind: 'gateway' | 'frigate', o: SearchOptions): Promise<CapacityOfSide> {
  const t0 = performance.now();
  const r = await searchCapacity(async (n) => {
    const scope = new Scope();
    try {
      const p = await openPoint(ctx, scope, n);
      const side = kind === 'gateway' ? (await runGateway(ctx, p)).side : await runPeer(ctx, p, 'frigate', n);
      const pass = passes(side);
      ctx.say(
        `capacity ${kind}: ${n} cameras: recall ${side.recall}, p95 ${side.latencyMsP95} ms, ${side.cpuMsPerCameraSecond} ms/cam-s -> ${pass ? 'pass' : 'fail'}`,
      );
      return { pass, value: side };
    } finally {
      await scope.close(ctx.deps.log);
    }
  }, o);
  const at = r.points.find((p) => p.cameras === r.cameras && p.pass)?.value ?? null;
  return {
    cameras: r.cameras,
    criteria: CRITERIA,
    minCameras: o.min,
    maxCameras: o.max,
    hitMax: r.hitMax,
    at,
    points: r.points.map((p) => ({ cameras: p.cameras, pass: p.pass, side: p.value })),
    wallS: Math.round((performance.now() - t0) / 1000),
  };
}

export async function runCapacity(ctx: Ctx, o: CapacityOptions): Promise<CapacityResult> {
  const gateway = await searchSide(ctx, 'gateway', o.gateway);
  const frigate = o.frigate ? await searchSide(ctx, 'frigate', o.frigate) : undefined;
  return { ...gateway, ...(frigate ? { frigate } : {}) };
}
