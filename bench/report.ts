// The benchmark's report (JSON v2) and its console table. Version 2 adds, per workload (city
// profile), every side's figures under `workloads.<profile>`, capacity under `capacity.<profile>`,
// the goals of the benchmark and activity-gate issues and, when compared, a baseline diff; the
// top-level keys of v1 stay, for the default workload.
import type { Score } from './score.ts';
import type { CpuParts } from './parts.ts';
import type { Goal } from './goals.ts';
import type { BaselineDiff } from './baseline.ts';

export type SideName = 'gateway' | 'limit' | 'naive' | 'frigate';
export type Profile = 'busy' | 'residential';

export interface SideResult {
  cameras: number;
  durationS: number;
  cpuMsPerCameraSecond: number;
  cpuPercent: number;
  rssMbPerCamera: number;
  peakRssMb: number;
  /** Summed PSS: what the tree takes from the machine, shared library pages counted once. */
  pssMbPerCamera: number;
  peakPssMb: number;
  processes: number;
  framesDecoded: number;
  framesAnalysed: number;
  framesDropped: number;
  /** Gateway, node ingest: keyframes never decoded, by reason (`still`: activity gate; `compressed`: replaced before their turn). */
  framesSkipped?: Record<string, number>;
  simulatorCpuMsPerStreamSecond: number;
  /** Event figures; null for the limit, which makes no events. */
  recall: number | null;
  precision: number | null;
  latencyMsP50: number | null;
  latencyMsP95: number | null;
  duplicateStarts: number | null;
  score?: Score;
  note?: string;
}

export interface Ratios {
  gatewayToLimit: number;
  naiveToGateway: number;
  frigateToGateway: number;
}

export interface Events {
  recall: number;
  precision: number;
  latencyMsP50: number;
  latencyMsP95: number;
  appearances: number;
  starts: number;
  duplicateStarts: number;
}

export interface WorkloadResult {
  profile: Profile;
  cameras: number;
  gateway: SideResult;
  limit: SideResult;
  naive: SideResult;
  frigate: SideResult;
  ratios: Ratios;
  events: Events;
  /** Where the gateway's CPU went in this workload's window. */
  cpuProfile?: CpuParts;
  sweep: { cameras: number; gateway: SideResult; limit: SideResult }[];
}

export interface CapacityPoint {
  cameras: number;
  pass: boolean;
  side: SideResult;
}

export interface CapacityOfSide {
  /** Largest camera count that passed (0: none did). */
  cameras: number;
  criteria: { recallMin: number; latencyMsP95Max: number };
  /** The search's bounds; hitMax: the largest count tried passed, so capacity is at least this. */
  minCameras: number;
  maxCameras: number;
  hitMax: boolean;
  /** Figures at the capacity found (null when no count passed). */
  at: SideResult | null;
  points: CapacityPoint[];
  wallS: number;
}

export type CapacityResult = CapacityOfSide & { frigate?: CapacityOfSide };

export interface Machine {
  cpus: number;
  model: string;
  loadavg1: number;
  memTotalMb: number;
  memFreeMb: number;
  node: string;
  ffmpeg: string;
}

export interface BenchResult {
  version: 2;
  at: string;
  /** Default workload (the top-level v1 keys below are its figures). */
  profile: Profile;
  profiles: Profile[];
  cameras: number;
  simulators: number;
  durationS: number;
  warmupS: number;
  machine: Machine;
  scenes: {
    count: number;
    seconds: number;
    keyframeIntervalS: number;
    width: number;
    height: number;
    fps: number;
  };
  gateway: SideResult & { framesAnalysed: number; framesDropped: number };
  limit: SideResult;
  naive: SideResult & { recall: number; precision: number };
  frigate: SideResult;
  ratios: Ratios;
  events: Events;
  simulator: { cpuMsPerStreamSecond: number };
  sweep: { cameras: number; gateway: SideResult; limit: SideResult }[];
  workloads: Partial<Record<Profile, WorkloadResult>>;
  capacity: Partial<Record<Profile, CapacityResult>>;
  goals: Goal[];
  baseline?: BaselineDiff;
  chart?: string;
  charts: string[];
}

const f = (x: number | null | undefined, d = 2): string =>
  x === undefined || x === null ? '-' : x.toFixed(d);

function sideRow(name: string, s: SideResult): string[] {
  return [
    name,
    String(s.cameras),
    f(s.cpuMsPerCameraSecond, 3),
    f(s.cpuPercent, 1),
    f(s.peakRssMb, 0),
    f(s.rssMbPerCamera, 2),
    f(s.pssMbPerCamera, 2),
    String(s.framesDecoded),
    String(s.framesAnalysed),
    String(s.framesDropped),
    f(s.recall),
    f(s.precision),
    s.latencyMsP50 === null ? '-' : `${f(s.latencyMsP50, 0)}/${f(s.latencyMsP95, 0)}`,
    s.duplicateStarts === null ? '-' : String(s.duplicateStarts),
    f(s.simulatorCpuMsPerStreamSecond, 3),
  ];
}

const HEADER = [
  'side',
  'cameras',
  'cpu ms/cam-s',
  'cpu %',
  'peak RSS MB',
  'MB/cam',
  'PSS MB/cam',
  'decoded',
  'analysed',
  'dropped',
  'recall',
  'precision',
  'lat p50/p95 ms',
  'dup starts',
  'sim ms/stream-s',
];

function table(rows: string[][]): string[] {
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]?.length ?? 0)));
  return [HEADER, ...rows].map((x) => x.map((c, i) => c.padStart(widths[i] ?? 0)).join('  '));
}

export function keyframesLine(s: SideResult): string {
  const sk = s.framesSkipped ?? {};
  const total = s.framesDecoded + Object.values(sk).reduce((a, b) => a + b, 0);
  const parts = Object.entries(sk).map(([k, v]) => `skipped ${k} ${v}`);
  return `decoded ${s.framesDecoded} of ${total} keyframes (${f((100 * s.framesDecoded) / Math.max(1, total), 1)} %)${parts.length > 0 ? `, ${parts.join(', ')}` : ''}`;
}

export function formatTable(r: BenchResult): string {
  const m = r.machine;
  const lines = [
    `facegate bench: ${r.cameras} cameras, ${r.durationS} s after ${r.warmupS} s warm-up; ${m.cpus} x ${m.model}, load ${m.loadavg1} at start, ${m.memFreeMb}/${m.memTotalMb} MB free, node ${m.node}, ffmpeg ${m.ffmpeg}`,
  ];
  for (const p of r.profiles) {
    const w = r.workloads[p];
    if (!w) continue;
    lines.push('', `workload ${p}:`);
    const rows = (['gateway', 'limit', 'naive', 'frigate'] as const).map((k) => sideRow(k, w[k]));
    for (const s of w.sweep)
      if (s.cameras !== w.cameras)
        rows.push(sideRow(`gateway@${s.cameras}`, s.gateway), sideRow(`limit@${s.cameras}`, s.limit));
    lines.push(...table(rows));
    const q = w.ratios;
    lines.push(
      `ratios: gateway/limit ${f(q.gatewayToLimit)}, naive/gateway ${f(q.naiveToGateway)}, frigate/gateway ${f(q.frigateToGateway)}; gateway events: ${w.events.appearances} appearances, ${w.events.starts} starts, ${w.events.duplicateStarts} duplicate`,
      `gateway keyframes: ${keyframesLine(w.gateway)}`,
    );
    for (const s of w.sweep)
      if (s.cameras !== w.cameras) lines.push(`gateway@${s.cameras} keyframes: ${keyframesLine(s.gateway)}`);
    for (const k of ['limit', 'naive', 'frigate'] as const)
      if (w[k].note) lines.push(`note (${k}): ${w[k].note}`);
    if (w.cpuProfile) {
      lines.push(`gateway CPU by part (${w.cpuProfile.totalMs} ms in the window):`);
      if (w.cpuProfile.detectionMsFromInference !== undefined)
        lines.push(
          `  (detection cross-check: ${w.gateway.framesAnalysed} frames x inference p50 = ${w.cpuProfile.detectionMsFromInference} ms)`,
        );
      for (const part of w.cpuProfile.parts)
        lines.push(
          `  ${(part.share * 100).toFixed(1).padStart(5)} %  ${String(part.ms).padStart(7)} ms  ${part.name}`,
        );
    }
  }
  for (const p of r.profiles) {
    const c = r.capacity[p];
    if (!c) continue;
    const one = (name: string, x: CapacityOfSide): string =>
      `capacity ${p} (${name}): ${x.cameras}${x.hitMax ? '+' : ''} cameras (recall >= ${x.criteria.recallMin}, p95 <= ${x.criteria.latencyMsP95Max} ms; tried ${x.points.map((pt) => `${pt.cameras}${pt.pass ? '✓' : '✗'}`).join(' ')}; ${Math.round(x.wallS)} s)`;
    lines.push(one('gateway', c));
    if (c.frigate) lines.push(one('frigate-like', c.frigate));
  }
  if (r.goals.length > 0) {
    lines.push('', 'goals:');
    for (const g of r.goals)
      lines.push(
        `  [${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'}] #${g.issue} ${g.text}: ${g.measured === null ? 'not measured' : +g.measured.toFixed(3)}${g.note ? ` (${g.note})` : ''}`,
      );
  }
  if (r.baseline) {
    lines.push(
      '',
      `baseline ${r.baseline.file} (${r.baseline.at}): changes over ${r.baseline.thresholdPct} % marked *`,
    );
    for (const c of r.baseline.changes.filter((x) => x.marked))
      lines.push(
        `  * ${c.path}: ${c.before} -> ${c.after} (${c.changePct > 0 ? '+' : ''}${c.changePct.toFixed(1)} %)`,
      );
    if (!r.baseline.changes.some((x) => x.marked)) lines.push('  no change over the threshold');
  }
  return `${lines.join('\n')}\n`;
}
