// The benchmark's report machinery on synthetic figures: goals met/missed, the baseline diff and its
// 10 % marks, the README section rewritten between its markers (round trip), and the charts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, SideResult, WorkloadResult } from '../bench/report.ts';
import { formatTable } from '../bench/report.ts';
import { evaluateGoals } from '../bench/goals.ts';
import { compareReports, figures } from '../bench/baseline.ts';
import { BEGIN, END, readmeSection, rewriteReadme, updateReadme } from '../bench/readme.ts';
import { writeCharts } from '../bench/charts.ts';

const side = (cameras: number, cpu: number, events = true): SideResult => ({
  cameras,
  durationS: 60,
  cpuMsPerCameraSecond: cpu,
  cpuPercent: (cpu * cameras) / 10,
  rssMbPerCamera: 1.5,
  peakRssMb: 1.5 * cameras,
  pssMbPerCamera: 1.1,
  peakPssMb: 1.1 * cameras,
  processes: 3,
  framesDecoded: 100,
  framesAnalysed: 90,
  framesDropped: 0,
  simulatorCpuMsPerStreamSecond: 0.2,
  recall: events ? 0.97 : null,
  precision: events ? 0.96 : null,
  latencyMsP50: events ? 800 : null,
  latencyMsP95: events ? 1800 : null,
  duplicateStarts: events ? 3 : null,
});

const workload = (profile: 'busy' | 'residential', gw: number): WorkloadResult => ({
  profile,
  cameras: 200,
  gateway: side(200, gw),
  limit: side(200, 4, false),
  naive: side(40, 9),
  frigate: side(20, 30),
  ratios: { gatewayToLimit: gw / 4, naiveToGateway: 9 / gw, frigateToGateway: 30 / gw },
  events: {
    recall: 0.97,
    precision: 0.96,
    latencyMsP50: 800,
    latencyMsP95: 1800,
    appearances: 90,
    starts: 95,
    duplicateStarts: 3,
  },
  cpuProfile: {
    totalMs: 1000,
    parts: [
      { name: 'JS main thread', ms: 600, share: 0.6 },
      { name: 'decoders (ffmpeg processes)', ms: 400, share: 0.4 },
    ],
    note: 'test',
  },
  sweep: [],
});

function report(gwBusy: number, gwRes: number, capBusy: number): BenchResult {
  const busy = workload('busy', gwBusy);
  const residential = workload('residential', gwRes);
  const workloads = { busy, residential };
  const capacity = {
    busy: {
      cameras: capBusy,
      criteria: { recallMin: 0.95, latencyMsP95Max: 2500 },
      minCameras: 50,
      maxCameras: 1600,
      hitMax: false,
      at: side(capBusy, gwBusy),
      points: [{ cameras: capBusy, pass: true, side: side(capBusy, gwBusy) }],
      wallS: 100,
    },
  };
  return {
    version: 2,
    at: '2026-12-02T12:00:00.000Z',
    profile: 'busy',
    profiles: ['busy', 'residential'],
    cameras: 200,
    simulators: 1,
    durationS: 60,
    warmupS: 15,
    machine: { cpus: 2, model: 'test', loadavg1: 0.1, memTotalMb: 1, memFreeMb: 1, node: 'v20', ffmpeg: 'x' },
    scenes: { count: 8, seconds: 60, keyframeIntervalS: 1, width: 640, height: 360, fps: 10 },
    gateway: busy.gateway,
    limit: busy.limit,
    naive: { ...busy.naive, recall: 0.97, precision: 0.96 },
    frigate: busy.frigate,
    ratios: busy.ratios,
    events: busy.events,
    simulator: { cpuMsPerStreamSecond: 0.2 },
    sweep: [],
    workloads,
    capacity,
    goals: evaluateGoals(workloads, capacity),
    charts: [],
  };
}

test('goals: met, missed with where the CPU goes, and not measured', () => {
  const r = report(4, 1, 350);
  const goal = (text: string) => r.goals.find((g) => g.text === text);
  const fr = r.goals.find((g) => g.text === 'Frigate-like / gateway CPU >= 5x (busy)');
  assert.equal(fr?.met, true); // 30 / 4 = 7.5
  const frRes = r.goals.find((g) => g.text === 'Frigate-like / gateway CPU >= 15x (residential)');
  assert.equal(frRes?.met, true); // 30 / 1
  const gl = r.goals.find((g) => g.text === 'gateway / limit CPU <= 1.0x (busy)');
  assert.equal(gl?.met, true);
  const naive = r.goals.find((g) => g.text === 'naive / gateway CPU >= 3x (busy)');
  assert.equal(naive?.met, false); // 9 / 4 = 2.25
  assert.equal(naive?.measured, 2.25);
  assert.deepEqual(
    naive?.whereCpuGoes?.map((p) => p.name),
    ['JS main thread', 'decoders (ffmpeg processes)'],
  );
  assert.equal(r.goals.find((g) => g.text === 'capacity >= 300 cameras (busy)')?.met, true);
  const capRes = r.goals.find((g) => g.text === 'capacity >= 1000 cameras (residential)');
  assert.equal(capRes?.met, null);
  assert.equal(capRes?.measured, null);
  assert.equal(goal('recall >= 0.95 (busy)')?.met, true);
  assert.ok(r.goals.every((g) => g.issue === 13 || g.issue === 15));
  assert.equal(r.goals.filter((g) => g.issue === 15).length, 5);
  const table = formatTable(r);
  assert.match(table, /\[MISS\] #15 naive \/ gateway CPU >= 3x \(busy\): 2\.25/);
  assert.match(table, /workload residential:/);
});

test('baseline: every comparable figure, changes over 10 % marked', () => {
  const before = report(4, 1, 350);
  const after = report(4.3, 1.5, 300);
  const d = compareReports(before, after, 'before.json');
  const by = new Map(d.changes.map((c) => [c.path, c]));
  // +7.5 %: not marked; +50 %: marked; capacity -14 %: marked.
  assert.equal(by.get('workloads.busy.gateway.cpuMsPerCameraSecond')?.marked, false);
  assert.equal(by.get('workloads.residential.gateway.cpuMsPerCameraSecond')?.marked, true);
  assert.equal(by.get('workloads.residential.gateway.cpuMsPerCameraSecond')?.changePct, 50);
  assert.equal(by.get('capacity.busy.cameras')?.marked, true);
  assert.equal(by.get('workloads.busy.limit.cpuMsPerCameraSecond')?.marked, false);
  // Null figures (the limit's recall) and nested score counts are not compared.
  assert.equal(by.has('workloads.busy.limit.recall'), false);
  assert.ok(!d.changes.some((c) => c.path.includes('.score.') || c.path.includes('.at.')));
  // A v1 report (top-level sides only) compares as its one workload.
  const v1 = {
    at: 'x',
    gateway: side(200, 8),
    limit: side(200, 4, false),
    naive: side(40, 9),
    ratios: { gatewayToLimit: 2 },
  };
  assert.equal(figures(v1).get('workloads.busy.gateway.cpuMsPerCameraSecond'), 8);
  const d1 = compareReports(v1, after, 'v1.json');
  assert.equal(
    d1.changes.find((c) => c.path === 'workloads.busy.gateway.cpuMsPerCameraSecond')?.marked,
    true,
  );
  after.baseline = d;
  assert.match(
    formatTable(after),
    /\* workloads\.residential\.gateway\.cpuMsPerCameraSecond: 1 -> 1\.5 \(\+50\.0 %\)/,
  );
});

test('README section: rewritten between the markers, the rest kept, idempotent', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-readme-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = report(4, 1, 350);
  const json = join(dir, 'bench.json');
  r.charts = writeCharts(r, join(dir, 'bench'));
  assert.deepEqual(
    r.charts.map((c) => c.replace(/^.*\//, '')),
    ['bench.cost-busy.svg', 'bench.cost-residential.svg', 'bench.capacity.svg'],
  );
  for (const c of r.charts) assert.match(readFileSync(c, 'utf8'), /^<svg[\s\S]*<\/svg>\n$/);
  writeFileSync(json, JSON.stringify(r));
  const readme = join(dir, 'README.md');
  const head = '# Title\n\n## Performance\n\n';
  const tail = '\n\n## Status\n\nkept\n';
  writeFileSync(readme, `${head}${BEGIN}\nold figures\n${END}${tail}`);
  const out = updateReadme(json, readme);
  assert.deepEqual(out.charts, [
    'docs/bench-cost-busy.svg',
    'docs/bench-cost-residential.svg',
    'docs/bench-capacity.svg',
  ]);
  const once = readFileSync(readme, 'utf8');
  assert.ok(once.startsWith(head) && once.endsWith(tail), 'outside the markers unchanged');
  assert.ok(!once.includes('old figures'));
  assert.match(once, /\| facegate gateway +\| 200 +\| 4\.00 /);
  assert.match(once, /\| #15 +\| naive \/ gateway CPU >= 3x \(busy\) +\| 2\.25 .*\| missed +\|/);
  assert.match(once, /!\[bench-capacity\.svg\]\(docs\/bench-capacity\.svg\)/);
  assert.match(readFileSync(join(dir, 'docs/bench-capacity.svg'), 'utf8'), /<svg/);
  updateReadme(json, readme);
  assert.equal(readFileSync(readme, 'utf8'), once, 'a second rewrite changes nothing');
  assert.throws(() => rewriteReadme('no markers here', readmeSection(r)), /no benchmark section/);
});
