// The report's charts, written next to its JSON: per workload, CPU per camera-second against camera
// count for every side (sweep, capacity points and the main run), and the capacity per workload.
import { writeFileSync } from 'node:fs';
import { barChartSvg, lineChartSvg, type Bar, type Series } from './chart.ts';
import type { BenchResult, SideName, SideResult } from './report.ts';

const COLORS: Record<SideName, string> = {
  gateway: '#1f77b4',
  limit: '#d62728',
  naive: '#ff7f0e',
  frigate: '#2ca02c',
};
const LABELS: Record<SideName, string> = {
  gateway: 'gateway',
  limit: 'limit (ffmpeg)',
  naive: 'naive',
  frigate: 'Frigate-like',
};

/** Writes the charts and returns their paths. */
export function writeCharts(r: BenchResult, base: string): string[] {
  const out: string[] = [];
  for (const p of r.profiles) {
    const w = r.workloads[p];
    if (!w) continue;
    const pts = new Map<SideName, Map<number, number>>();
    const add = (side: SideName, s: SideResult | null | undefined): void => {
      if (!s || !(s.cpuMsPerCameraSecond > 0)) return;
      const m = pts.get(side) ?? new Map<number, number>();
      m.set(s.cameras, s.cpuMsPerCameraSecond);
      pts.set(side, m);
    };
    for (const k of ['gateway', 'limit', 'naive', 'frigate'] as const) add(k, w[k]);
    for (const s of w.sweep) {
      add('gateway', s.gateway);
      add('limit', s.limit);
    }
    const cap = r.capacity[p];
    for (const pt of cap?.points ?? []) add('gateway', pt.side);
    for (const pt of cap?.frigate?.points ?? []) add('frigate', pt.side);
    const series: Series[] = [...pts].map(([side, m]) => ({
      name: LABELS[side],
      color: COLORS[side],
      points: [...m].map(([x, y]) => ({ x, y })),
    }));
    const file = `${base}.cost-${p}.svg`;
    writeFileSync(
      file,
      lineChartSvg(`CPU per camera-second (${p})`, 'cameras', 'CPU ms per camera-second', series),
    );
    out.push(file);
  }
  const bars: Bar[] = [];
  for (const p of r.profiles) {
    const c = r.capacity[p];
    if (!c) continue;
    bars.push({
      group: p,
      name: 'gateway',
      color: COLORS.gateway,
      value: c.cameras,
      suffix: c.hitMax ? '+' : '',
    });
    if (c.frigate)
      bars.push({
        group: p,
        name: 'Frigate-like',
        color: COLORS.frigate,
        value: c.frigate.cameras,
        suffix: c.frigate.hitMax ? '+' : '',
      });
  }
  if (bars.length > 0) {
    const file = `${base}.capacity.svg`;
    writeFileSync(file, barChartSvg('Capacity: cameras with recall >= 0.95, p95 <= 2.5 s', 'cameras', bars));
    out.push(file);
  }
  return out;
}
