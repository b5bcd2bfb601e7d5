// The sides of the benchmark, each measured the same way against one point (bench/point.ts): CPU
// of its process tree and peak summed RSS from /proc over the window after a warm-up, and its start
// events scored against the simulator's ground truth.
import type { ChildProcess } from 'node:child_process';
import { passthroughTiming, spawnFfmpeg } from '../shared/ffmpeg.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import type { StatsMessage } from '../contract/stats.ts';
import { defaultModelPath } from '../gateway/index.ts';
import { cliPath, startChild } from './children.ts';
import { treeMeter, type TreeMeter } from './proc-tree.ts';
import { scoreEvents, type Score, type SeenStart } from './score.ts';
import type { PeerKind, PeerSpec, PeerStats } from './peer-child.ts';
import { cams, type Ctx, type Point } from './point.ts';
import type { SideResult } from './report.ts';
import { motionMsPerFrame, partsMeter, type CpuParts } from './parts.ts';
import { abortable, MB, round, Scope, sleep } from './util.ts';
import { citySets, gatewaySets, ingestKind } from './wiring.ts';

/** Samples the side and the simulator every second over the measured window. */
async function measureWindow(
  ctx: Ctx,
  meters: { sample(): void }[],
): Promise<{ from: number; to: number; wallS: number }> {
  for (const m of meters) m.sample();
  const from = Date.now();
  const t0 = performance.now();
  const end = t0 + ctx.durationS * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, Math.max(1, end - performance.now())), ctx.deps.signal);
    for (const m of meters) m.sample();
  }
  return { from, to: Date.now(), wallS: (performance.now() - t0) / 1000 };
}

function sideResult(n: number, side: TreeMeter, sim: TreeMeter, wallS: number, score?: Score): SideResult {
  const cpu = side.cpuMs();
  return {
    cameras: n,
    durationS: round(wallS, 1),
    cpuMsPerCameraSecond: round(cpu / (n * wallS)),
    cpuPercent: round((cpu / (wallS * 1000)) * 100, 1),
    rssMbPerCamera: round(side.peakRssBytes() / MB / n),
    peakRssMb: round(side.peakRssBytes() / MB, 1),
    pssMbPerCamera: round(side.peakPssBytes() / MB / n),
    peakPssMb: round(side.peakPssBytes() / MB, 1),
    processes: side.pids(),
    framesDecoded: 0,
    framesAnalysed: 0,
    framesDropped: 0,
    simulatorCpuMsPerStreamSecond: round(sim.cpuMs() / (n * wallS)),
    // Without an appearance (or a start) in the window a figure is unknown, not 0 or 1.
    recall: score && score.appearances > 0 ? round(score.recall) : null,
    precision: score && score.starts > 0 ? round(score.precision) : null,
    latencyMsP50: score && score.found > 0 ? Math.round(score.latencyMsP50) : null,
    latencyMsP95: score && score.found > 0 ? Math.round(score.latencyMsP95) : null,
    duplicateStarts: score ? score.duplicateStarts : null,
    ...(score ? { score } : {}),
  };
}

const score = (p: Point, ids: string[], starts: SeenStart[], w: { from: number; to: number }): Score =>
  scoreEvents(p.fleet, ids, starts, w.from, w.to);

export async function runGateway(ctx: Ctx, p: Point): Promise<{ side: SideResult; cpu: CpuParts }> {
  const scope = new Scope();
  const { deps } = ctx;
  try {
    const id = `bench-gw-${p.n}-${Date.now() % 100_000}`;
    ctx.say(`gateway: ${p.n} cameras, warm-up ${ctx.warmupS} s, then ${ctx.durationS} s`);
    const gw = startChild(
      [
        cliPath,
        'gateway',
        '--mqtt-url',
        p.broker.url,
        '--id',
        id,
        '--http-port',
        '0',
        ...gatewaySets(ctx.cfg),
        '--set',
        'gateway.statsEveryS=1',
        '--set',
        'gateway.settleS=0.5',
        ...citySets(ctx.cfg),
      ],
      deps.env,
      deps.stderr,
    );
    scope.add('gateway', () => gw.close(15_000));
    // Cameras online (or a bounded wait), then the warm-up.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && (p.stats.get(id)?.cameras.online ?? 0) < p.n) {
      if (gw.exited) throw new Error('gateway exited during start-up');
      await sleep(500, deps.signal);
    }
    const online = p.stats.get(id)?.cameras.online ?? 0;
    if (online < p.n)
      ctx.say(`gateway: only ${online} of ${p.n} cameras online after 120 s; measuring anyway`);
    await sleep(ctx.warmupS * 1000, deps.signal);
    const side = treeMeter(() => [gw.pid]);
    const sim = treeMeter(() => p.sims.map((x) => x.pid));
    const parts = partsMeter(gw.pid, ctx.cfg.gateway.detectorThreads);
    const s0 = p.stats.get(id);
    const w = await measureWindow(ctx, [side, sim, parts]);
    const s1 = p.stats.get(id);
    // Events of faces near the window's end arrive a little later.
    await sleep(3000, deps.signal);
    const r = sideResult(
      p.n,
      side,
      sim,
      w.wallS,
      score(
        p,
        cams(p, p.n).map((c) => c.id),
        p.starts,
        w,
      ),
    );
    const dropped = (s: StatsMessage | undefined): number =>
      Object.values(s?.frames.dropped ?? {}).reduce((a, b) => a + b, 0);
    r.framesDecoded = (s1?.frames.decoded ?? 0) - (s0?.frames.decoded ?? 0);
    r.framesAnalysed = (s1?.frames.analysed ?? 0) - (s0?.frames.analysed ?? 0);
    r.framesDropped = dropped(s1) - dropped(s0);
    const skipped: Record<string, number> = {};
    for (const [k, v] of Object.entries(s1?.frames.skipped ?? {}))
      if (v - (s0?.frames.skipped?.[k] ?? 0) > 0) skipped[k] = v - (s0?.frames.skipped?.[k] ?? 0);
    r.framesSkipped = skipped;
    const cpu = parts.result({
      framesChecked: ctx.cfg.gateway.motionThreshold > 0 ? r.framesDecoded : 0,
      motionMsPerFrame: motionMsPerFrame(),
      ingest: ingestKind(ctx.cfg),
    });
    cpu.detectionMsFromInference = Math.round(r.framesAnalysed * (s1?.inferenceMs.p50 ?? 0));
    return { side: r, cpu };
  } finally {
    await scope.close(deps.log);
  }
}

export async function runLimit(ctx: Ctx, p: Point): Promise<SideResult> {
  const scope = new Scope();
  const { deps } = ctx;
  try {
    ctx.say(`limit: ffmpeg keyframes to null, ${p.n} cameras, ${ctx.limitInputsPerProcess} inputs a process`);
    const list = cams(p, p.n);
    const procs: { proc: ChildProcess; tail: string; exit: Promise<void> }[] = [];
    const spawnedAt = Date.now();
    for (let i = 0; i < list.length; i += ctx.limitInputsPerProcess) {
      const group = list.slice(i, i + ctx.limitInputsPerProcess);
      const args = [
        '-loglevel',
        'verbose',
        ...group.flatMap((c) => [
          '-rtsp_transport',
          'tcp',
          '-nofind_stream_info',
          '-skip_frame',
          'nokey',
          '-threads',
          '1',
          '-i',
          c.url,
        ]),
        ...group.flatMap((_, k) => ['-map', `${k}:v`]),
        ...passthroughTiming(deps.ffmpeg),
        '-f',
        'null',
        '-',
      ];
      const proc = spawnFfmpeg(deps.ffmpeg, args, ['ignore', 'ignore', 'pipe']);
      const entry = { proc, tail: '', exit: new Promise<void>((r) => proc.once('exit', () => r())) };
      proc.stderr!.on('data', (d: Buffer) => {
        entry.tail = (entry.tail + d.toString()).slice(-200_000);
      });
      procs.push(entry);
      scope.add('limit-ffmpeg', async () => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
        await entry.exit;
      });
    }
    await sleep(ctx.warmupS * 1000, deps.signal);
    const side = treeMeter(() => procs.map((x) => x.proc.pid ?? 0));
    const sim = treeMeter(() => p.sims.map((x) => x.pid));
    const w = await measureWindow(ctx, [side, sim]);
    const r = sideResult(p.n, side, sim, w.wallS);
    // A graceful stop prints each input's "N frames decoded"; the window's share is estimated.
    for (const x of procs) x.proc.kill('SIGINT');
    await abortable(Promise.all(procs.map((x) => x.exit)), deps.signal, 10_000);
    const stoppedAt = Date.now();
    let total = 0;
    for (const x of procs) for (const m of x.tail.matchAll(/(\d+) frames decoded/g)) total += Number(m[1]);
    r.framesDecoded = Math.round((total * w.wallS * 1000) / Math.max(1, stoppedAt - spawnedAt));
    r.note = 'frames decoded estimated from the whole run, scaled to the window';
    const exited = procs.filter(
      (x) => x.proc.exitCode !== null && x.proc.exitCode !== 0 && x.proc.exitCode !== 255,
    ).length;
    if (exited > 0) ctx.say(`limit: ${exited} ffmpeg processes ended with an error`);
    return r;
  } finally {
    await scope.close(deps.log);
  }
}

const PEERS: Record<PeerKind, { fps: number; what: string }> = {
  naive: { fps: 1, what: 'one ffmpeg each, fps=1, detection on every sample' },
  frigate: {
    fps: 5,
    what: 'one ffmpeg each, fps=5 at 320x240, pixel motion on every frame, detection on motion',
  },
};

/** A peer pipeline (bench/peer-child.ts) on the first m cameras of the point. */
export async function runPeer(ctx: Ctx, p: Point, kind: PeerKind, m: number): Promise<SideResult> {
  const scope = new Scope();
  const { deps, cfg } = ctx;
  const g = cfg.gateway;
  try {
    ctx.say(`${kind}: ${m} cameras (${PEERS[kind].what})`);
    const spec: PeerSpec = {
      kind,
      cameras: cams(p, m),
      ffmpeg: deps.ffmpeg,
      modelPath: defaultModelPath,
      fps: PEERS[kind].fps,
      detectorThreads: kind === 'naive' ? 1 : g.detectorThreads,
      scoreThreshold: g.scoreThreshold,
      confirmHits: g.confirmHits,
      endAfterS: g.endAfterS,
      ...(kind === 'frigate'
        ? {
            motion: { threshold: g.motionThreshold },
            faceHeight: { min: g.minFaceHeight, max: g.maxFaceHeight },
          }
        : {}),
    };
    const tsx = import.meta.resolve('tsx');
    const child = startChild(
      ['--import', tsx, new URL('./peer-child.ts', import.meta.url).pathname, JSON.stringify(spec)],
      deps.env,
      deps.stderr,
    );
    scope.add(kind, () => child.close(8000));
    const starts: SeenStart[] = [];
    let lastStats: PeerStats | undefined;
    child.onLine((line) => {
      try {
        const v = JSON.parse(line) as { event?: FaceEvent; arrivedAt?: number; stats?: PeerStats };
        if (v.event?.type === 'start')
          starts.push({
            cameraId: v.event.cameraId,
            ts: Date.parse(v.event.ts),
            arrivedAt: v.arrivedAt ?? Date.now(),
          });
        if (v.stats) lastStats = v.stats;
      } catch {
        // not JSON
      }
    });
    await child.waitLine(/"ready"/, 60_000, `${kind} pipeline ready`);
    const readStats = async (): Promise<PeerStats | undefined> => {
      lastStats = undefined;
      child.proc.stdin!.write('stats\n');
      for (let i = 0; i < 50 && !lastStats; i++) await sleep(100, deps.signal);
      return lastStats;
    };
    await sleep(ctx.warmupS * 1000, deps.signal);
    const side = treeMeter(() => [child.pid]);
    const sim = treeMeter(() => p.sims.map((x) => x.pid));
    const st0 = await readStats();
    const w = await measureWindow(ctx, [side, sim]);
    const st1 = await readStats();
    await sleep(3000, deps.signal);
    const r = sideResult(
      m,
      side,
      sim,
      w.wallS,
      score(
        p,
        spec.cameras.map((c) => c.id),
        starts,
        w,
      ),
    );
    r.framesDecoded = (st1?.decoded ?? 0) - (st0?.decoded ?? 0);
    r.framesAnalysed = (st1?.analysed ?? 0) - (st0?.analysed ?? 0);
    r.framesDropped = (st1?.dropped ?? 0) - (st0?.dropped ?? 0);
    if (kind === 'frigate') r.framesSkipped = { still: (st1?.still ?? 0) - (st0?.still ?? 0) };
    if (m < p.n) r.note = `${kind} side capped at ${m} of ${p.n} cameras; figures are per camera`;
    if ((st1?.ffmpegExits ?? 0) > 0) ctx.say(`${kind}: ${st1?.ffmpegExits} ffmpeg processes ended early`);
    return r;
  } finally {
    await scope.close(deps.log);
  }
}
