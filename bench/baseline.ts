// Figures of a run against a previous run's JSON (--baseline FILE): every comparable figure, with
// changes over the threshold (10 %) marked. A v1 report (no `workloads`) counts as its one workload.
import { readFileSync } from 'node:fs';
import { z } from 'zod';

export interface BaselineChange {
  path: string;
  before: number;
  after: number;
  changePct: number;
  marked: boolean;
}

export interface BaselineDiff {
  file: string;
  at: string;
  thresholdPct: number;
  changes: BaselineChange[];
}

const FIGURES = new Set([
  'cpuMsPerCameraSecond',
  'rssMbPerCamera',
  'pssMbPerCamera',
  'recall',
  'precision',
  'latencyMsP50',
  'latencyMsP95',
  'duplicateStarts',
  'gatewayToLimit',
  'naiveToGateway',
  'frigateToGateway',
  'cameras',
]);

/** Numeric leaves by dotted path; arrays are left out (sweeps and points differ between runs). */
function flatten(v: unknown, path: string, out: Map<string, number>): void {
  if (typeof v === 'number' && Number.isFinite(v)) {
    out.set(path, v);
    return;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
  for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out);
}

const reportShape = z.looseObject({
  at: z.string().optional(),
  profile: z.string().optional(),
  workloads: z.record(z.string(), z.unknown()).optional(),
  capacity: z.record(z.string(), z.unknown()).optional(),
  gateway: z.unknown().optional(),
  limit: z.unknown().optional(),
  naive: z.unknown().optional(),
  ratios: z.unknown().optional(),
});
type Report = z.infer<typeof reportShape>;

/** The comparable figures of a report: workloads.<p>.<side>.<figure>, ratios, capacity.<p>.cameras. */
export function figures(r: Report): Map<string, number> {
  const all = new Map<string, number>();
  const workloads = r.workloads ?? {
    [r.profile ?? 'busy']: { gateway: r.gateway, limit: r.limit, naive: r.naive, ratios: r.ratios },
  };
  flatten({ workloads, capacity: r.capacity ?? {} }, '', all);
  const out = new Map<string, number>();
  for (const [k, v] of all) {
    const parts = k.split('.');
    const leaf = parts[parts.length - 1] ?? '';
    if (!FIGURES.has(leaf)) continue;
    // Only figures of a side, the ratios and the capacity found; not counts inside `score` or `at`.
    if (parts[0] === 'workloads' && parts.length === 4 && leaf !== 'cameras') out.set(k, v);
    if (
      parts[0] === 'capacity' &&
      leaf === 'cameras' &&
      (parts.length === 3 || (parts.length === 4 && parts[2] === 'frigate'))
    )
      out.set(k, v);
  }
  return out;
}

export function compareReports(before: object, after: object, file: string, thresholdPct = 10): BaselineDiff {
  const b0 = reportShape.parse(before);
  const a = figures(b0);
  const b = figures(reportShape.parse(after));
  const changes: BaselineChange[] = [];
  for (const [path, x] of a) {
    const y = b.get(path);
    if (y === undefined) continue;
    const changePct = x === 0 ? (y === 0 ? 0 : 100) : ((y - x) / Math.abs(x)) * 100;
    changes.push({
      path,
      before: x,
      after: y,
      changePct: Math.round(changePct * 10) / 10,
      marked: Math.abs(changePct) > thresholdPct,
    });
  }
  return { file, at: b0.at ?? '', thresholdPct, changes };
}

export function readReport(file: string): Report {
  return reportShape.parse(JSON.parse(readFileSync(file, 'utf8')));
}
