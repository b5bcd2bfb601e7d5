// `facegate bench`: on this machine, one after another, measures the gateway (its own process and
// its ffmpeg decoders), the limit (ffmpeg decoding the same streams' keyframes to null) and a naive
// pipeline (one ffmpeg per camera, every frame decoded, fps=1, detection on every sample), against
// a simulator in its own process and an embedded broker. CPU and memory come from /proc.
import type { ChildProcess } from 'node:child_process';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import { passthroughTiming, spawnFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../shared/broker.ts';
import { connectMqtt, type MqttLink } from '../shared/mqtt.ts';
import { planScenes } from '../simulator/scenes/render.ts';
import { createFleet, cameraId, type Fleet } from '../simulator/fleet.ts';
import { sceneSpec } from '../simulator/index.ts';
import type { FaceEvent } from '../gateway/tracker.ts';
import type { StatsMessage } from '../contract/stats.ts';
import {
  createTopics,
  faceEventSchema,
  parsePayload,
  parseTopic,
  statsMessageSchema,
} from '../contract/index.ts';
import { defaultModelPath } from '../gateway/index.ts';
import { cliPath, startChild, type Child } from './children.ts';
import { treeMeter, type TreeMeter } from './proc-tree.ts';
import { scoreEvents, type Score, type SeenStart } from './score.ts';
import { lineChartSvg } from './chart.ts';
import type { NaiveSpec, NaiveStats } from './naive-child.ts';

export interface BenchOptions {
  cameras: number;
  durationS: number;
  warmupS: number;
  /** Cap of the naive side (it runs one ffmpeg per camera). */
  naiveCameras: number;
  /** Camera counts for the gateway and limit sweep (empty: none). */
  sweep: number[];
  /** Inputs per ffmpeg of the limit side. */
  limitInputsPerProcess: number;
  /** Simulator processes, each serving shard k/n of the cameras (1: one whole-city simulator). */
  simulators: number;
  out: string;
}

export interface BenchDeps {
  cfg: Config;
  env: Record<string, string | undefined>;
  log: Logger;
  ffmpeg: FfmpegBinary;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

export interface SideResult {
  cameras: number;
  durationS: number;
  cpuMsPerCameraSecond: number;
  cpuPercent: number;
  rssMbPerCamera: number;
  peakRssMb: number;
  processes: number;
  framesDecoded: number;
  framesAnalysed: number;
  framesDropped: number;
  /** Gateway, rtsp ingest: keyframes never decoded, by reason (`still`: activity gate; `compressed`: replaced before their turn). */
  framesSkipped?: Record<string, number>;
  simulatorCpuMsPerStreamSecond: number;
  score?: Score;
  note?: string;
}

export interface BenchResult {
  at: string;
  cameras: number;
  /** Simulator shards that served the cameras. */
  simulators: number;
  durationS: number;
  warmupS: number;
  machine: {
    cpus: number;
    model: string;
    loadavg1: number;
    memTotalMb: number;
    memFreeMb: number;
    node: string;
    ffmpeg: string;
  };
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
  ratios: { gatewayToLimit: number; naiveToGateway: number };
  events: {
    recall: number;
    precision: number;
    latencyMsP50: number;
    latencyMsP95: number;
    appearances: number;
    starts: number;
  };
  simulator: { cpuMsPerStreamSecond: number };
  sweep: { cameras: number; gateway: SideResult; limit: SideResult }[];
  chart?: string;
}

class Aborted extends Error {
  constructor() {
    super('benchmark interrupted');
    this.name = 'Aborted';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Aborted());
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Rejects when aborted; with timeoutMs, resolves (undefined) after it. Leaves no timer behind. */
function abortable<T>(p: Promise<T>, signal: AbortSignal, timeoutMs?: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Aborted());
    let t: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(new Aborted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined)
      t = setTimeout(() => {
        done();
        resolve(undefined);
      }, timeoutMs);
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e: unknown) => {
        done();
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

const round = (x: number, d = 3): number => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : 0);
const MB = 1024 * 1024;

/** Things to close, last opened first; closing twice is harmless. */
class Scope {
  private items: { name: string; close: () => Promise<void> }[] = [];
  add(name: string, close: () => Promise<void>): void {
    this.items.push({ name, close });
  }
  async close(log: Logger): Promise<void> {
    for (const it of this.items.reverse()) {
      try {
        await it.close();
      } catch (err) {
        log.warn({ component: it.name, err: (err as Error).message }, 'bench: close failed');
      }
    }
    this.items = [];
  }
}

interface Point {
  n: number;
  broker: EmbeddedBroker;
  /** The simulator shards; camera index i is served by sims[i mod sims.length]. */
  sims: Child[];
  rtspBases: string[];
  fleet: Fleet;
  sub: MqttLink;
  starts: SeenStart[];
  stats: Map<string, StatsMessage>;
}

export async function runBench(opts: BenchOptions, deps: BenchDeps): Promise<BenchResult> {
  const { cfg, log, signal } = deps;
  const say = (s: string): void => {
    deps.stderr.write(`${new Date().toISOString().slice(11, 19)} bench: ${s}\n`);
  };
  const spec = sceneSpec(cfg);
  const clips = planScenes(spec);
  const citySets = [
    `city.scenes=${spec.count}`,
    `city.sceneSeconds=${spec.seconds}`,
    `city.keyframeInterval=${spec.keyframeIntervalS}`,
    `city.width=${spec.width}`,
    `city.height=${spec.height}`,
    `city.fps=${spec.fps}`,
    `city.seed=${spec.seed}`,
    `simulator.cacheDir=${cfg.simulator.cacheDir}`,
    `mqtt.prefix=${cfg.mqtt.prefix}`,
    'log.level=warn',
    ...(cfg.ffmpeg.path ? [`ffmpeg.path=${cfg.ffmpeg.path}`] : []),
  ].flatMap((s) => ['--set', s]);
  // The gateway under test runs with the bench's gateway settings (--set gateway.ingest=rtsp ...).
  const gatewaySets = Object.entries(cfg.gateway)
    .filter(([k]) => k !== 'cameras' && k !== 'id')
    .flatMap(([k, v]) => ['--set', `gateway.${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`]);
  const prefix = cfg.mqtt.prefix;
  const window = (): number => opts.durationS * 1000;

  /** Broker, simulator child and the bench's subscriber for n cameras. */
  const openPoint = async (scope: Scope, n: number): Promise<Point> => {
    const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, log);
    scope.add('broker', () => broker.close());
    const S = Math.max(1, opts.simulators);
    say(
      `starting ${S > 1 ? `${S} simulator shards` : 'simulator'} with ${n} cameras (renders scenes on first use)`,
    );
    const sims = Array.from({ length: S }, (_, k) => {
      const shard = S > 1 ? ['--shard', `${k + 1}/${S}`] : [];
      const child = startChild(
        [
          cliPath,
          'simulator',
          '--cameras',
          String(n),
          '--port',
          '0',
          '--mqtt-url',
          broker.url,
          ...shard,
          ...citySets,
        ],
        deps.env,
        deps.stderr,
      );
      scope.add(`simulator ${k + 1}`, () => child.close(8000));
      return child;
    });
    // Listen to every shard at once: a child's ready line is not kept for a listener added later.
    const ready = await abortable(
      Promise.all(sims.map((sim) => sim.waitLine(/at (rtsp:\/\/\S+)\/cam\/\d+/, 900_000, 'simulator ready'))),
      signal,
    );
    const rtspBases = sims.map((_, k) => ready?.[k]?.[1] ?? '');
    const fleet = createFleet({ count: n, seed: spec.seed, clips });
    const sub = connectMqtt({ url: broker.url, clientId: `facegate-bench-${process.pid}-${n}` }, log);
    scope.add('subscriber', () => sub.close({ timeoutMs: 2000 }));
    await sub.waitConnected(10_000);
    const starts: SeenStart[] = [];
    const stats = new Map<string, StatsMessage>();
    const topics = createTopics(prefix);
    sub.onMessage((topic, payload) => {
      const arrivedAt = Date.now();
      const t = parseTopic(topic, topics.prefix);
      if (t?.kind === 'faces') {
        const ev = parsePayload(faceEventSchema, payload, 'face event');
        if (ev.ok && ev.data.type === 'start')
          starts.push({ cameraId: ev.data.cameraId, ts: Date.parse(ev.data.ts), arrivedAt });
      } else if (t?.kind === 'gatewayStats') {
        const sm = parsePayload(statsMessageSchema, payload, 'stats');
        if (sm.ok) stats.set(t.gateway, sm.data);
      }
    });
    await sub.subscribe([topics.allFaces, topics.allGatewayStats], 1);
    return { n, broker, sims, rtspBases, fleet, sub, starts, stats };
  };

  const cams = (p: Point, n: number): { id: string; url: string }[] =>
    Array.from({ length: n }, (_, i) => ({
      id: cameraId(i),
      url: `${p.rtspBases[i % p.rtspBases.length]}/cam/${cameraId(i)}`,
    }));

  /** Samples the side and the simulator every second over the measured window. */
  const measureWindow = async (
    side: TreeMeter,
    sim: TreeMeter,
  ): Promise<{ from: number; to: number; wallS: number }> => {
    side.sample();
    sim.sample();
    const from = Date.now();
    const t0 = performance.now();
    const end = t0 + window();
    while (performance.now() < end) {
      await sleep(Math.min(1000, Math.max(1, end - performance.now())), signal);
      side.sample();
      sim.sample();
    }
    return { from, to: Date.now(), wallS: (performance.now() - t0) / 1000 };
  };

  const sideResult = (
    n: number,
    side: TreeMeter,
    sim: TreeMeter,
    wallS: number,
    streams: number,
  ): SideResult => {
    const cpu = side.cpuMs();
    return {
      cameras: n,
      durationS: round(wallS, 1),
      cpuMsPerCameraSecond: round(cpu / (n * wallS)),
      cpuPercent: round((cpu / (wallS * 1000)) * 100, 1),
      rssMbPerCamera: round(side.peakRssBytes() / MB / n),
      peakRssMb: round(side.peakRssBytes() / MB, 1),
      processes: side.pids(),
      framesDecoded: 0,
      framesAnalysed: 0,
      framesDropped: 0,
      simulatorCpuMsPerStreamSecond: round(sim.cpuMs() / (streams * wallS)),
    };
  };

  const runGateway = async (p: Point): Promise<SideResult> => {
    const scope = new Scope();
    try {
      const id = `bench-gw-${p.n}`;
      say(`gateway: ${p.n} cameras, warm-up ${opts.warmupS} s, then ${opts.durationS} s`);
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
          ...gatewaySets,
          '--set',
          'gateway.statsEveryS=1',
          '--set',
          'gateway.settleS=0.5',
          ...citySets,
        ],
        deps.env,
        deps.stderr,
      );
      scope.add('gateway', () => gw.close(15_000));
      // Cameras online (or a bounded wait), then the warm-up.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && (p.stats.get(id)?.cameras.online ?? 0) < p.n) {
        if (gw.exited) throw new Error('gateway exited during start-up');
        await sleep(500, signal);
      }
      const online = p.stats.get(id)?.cameras.online ?? 0;
      if (online < p.n) say(`gateway: only ${online} of ${p.n} cameras online after 120 s; measuring anyway`);
      await sleep(opts.warmupS * 1000, signal);
      const side = treeMeter(() => [gw.pid]);
      const sim = treeMeter(() => p.sims.map((x) => x.pid));
      const s0 = p.stats.get(id);
      const w = await measureWindow(side, sim);
      const s1 = p.stats.get(id);
      // Events of faces near the window's end arrive a little later.
      await sleep(3000, signal);
      const r = sideResult(p.n, side, sim, w.wallS, p.n);
      const dropped = (s: StatsMessage | undefined): number =>
        Object.values(s?.frames.dropped ?? {}).reduce((a, b) => a + b, 0);
      r.framesDecoded = (s1?.frames.decoded ?? 0) - (s0?.frames.decoded ?? 0);
      r.framesAnalysed = (s1?.frames.analysed ?? 0) - (s0?.frames.analysed ?? 0);
      r.framesDropped = dropped(s1) - dropped(s0);
      const skipped: Record<string, number> = {};
      for (const [k, v] of Object.entries(s1?.frames.skipped ?? {}))
        if (v - (s0?.frames.skipped?.[k] ?? 0) > 0) skipped[k] = v - (s0?.frames.skipped?.[k] ?? 0);
      r.framesSkipped = skipped;
      r.score = scoreEvents(
        p.fleet,
        cams(p, p.n).map((c) => c.id),
        p.starts,
        w.from,
        w.to,
      );
      return r;
    } finally {
      await scope.close(log);
    }
  };

  const runLimit = async (p: Point): Promise<SideResult> => {
    const scope = new Scope();
    try {
      say(`limit: ffmpeg keyframes to null, ${p.n} cameras, ${opts.limitInputsPerProcess} inputs a process`);
      const list = cams(p, p.n);
      const procs: { proc: ChildProcess; tail: string; exit: Promise<void> }[] = [];
      const spawnedAt = Date.now();
      for (let i = 0; i < list.length; i += opts.limitInputsPerProcess) {
        const group = list.slice(i, i + opts.limitInputsPerProcess);
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
      await sleep(opts.warmupS * 1000, signal);
      const side = treeMeter(() => procs.map((x) => x.proc.pid ?? 0));
      const sim = treeMeter(() => p.sims.map((x) => x.pid));
      const w = await measureWindow(side, sim);
      const r = sideResult(p.n, side, sim, w.wallS, p.n);
      // A graceful stop prints each input's "N frames decoded"; the window's share is estimated.
      for (const x of procs) x.proc.kill('SIGINT');
      await abortable(Promise.all(procs.map((x) => x.exit)), signal, 10_000);
      const stoppedAt = Date.now();
      let total = 0;
      for (const x of procs) for (const m of x.tail.matchAll(/(\d+) frames decoded/g)) total += Number(m[1]);
      r.framesDecoded = Math.round((total * w.wallS * 1000) / Math.max(1, stoppedAt - spawnedAt));
      r.note = 'frames decoded estimated from the whole run, scaled to the window';
      const exited = procs.filter(
        (x) => x.proc.exitCode !== null && x.proc.exitCode !== 0 && x.proc.exitCode !== 255,
      ).length;
      if (exited > 0) say(`limit: ${exited} ffmpeg processes ended with an error`);
      return r;
    } finally {
      await scope.close(log);
    }
  };

  const runNaive = async (p: Point, m: number): Promise<SideResult> => {
    const scope = new Scope();
    try {
      say(`naive: ${m} cameras (one ffmpeg each, fps=1, detection on every sample)`);
      const naiveSpec: NaiveSpec = {
        cameras: cams(p, m),
        ffmpeg: deps.ffmpeg,
        modelPath: defaultModelPath,
        scoreThreshold: cfg.gateway.scoreThreshold,
        confirmHits: cfg.gateway.confirmHits,
        endAfterS: cfg.gateway.endAfterS,
      };
      const tsx = import.meta.resolve('tsx');
      const child = startChild(
        ['--import', tsx, new URL('./naive-child.ts', import.meta.url).pathname, JSON.stringify(naiveSpec)],
        deps.env,
        deps.stderr,
      );
      scope.add('naive', () => child.close(8000));
      const starts: SeenStart[] = [];
      let lastStats: NaiveStats | undefined;
      child.onLine((line) => {
        try {
          const v = JSON.parse(line) as { event?: FaceEvent; arrivedAt?: number; stats?: NaiveStats };
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
      await child.waitLine(/"ready"/, 60_000, 'naive pipeline ready');
      const readStats = async (): Promise<NaiveStats | undefined> => {
        lastStats = undefined;
        child.proc.stdin!.write('stats\n');
        for (let i = 0; i < 50 && !lastStats; i++) await sleep(100, signal);
        return lastStats;
      };
      await sleep(opts.warmupS * 1000, signal);
      const side = treeMeter(() => [child.pid]);
      const sim = treeMeter(() => p.sims.map((x) => x.pid));
      const st0 = await readStats();
      const w = await measureWindow(side, sim);
      const st1 = await readStats();
      await sleep(3000, signal);
      const r = sideResult(m, side, sim, w.wallS, m);
      r.framesDecoded = (st1?.decoded ?? 0) - (st0?.decoded ?? 0);
      r.framesAnalysed = (st1?.analysed ?? 0) - (st0?.analysed ?? 0);
      r.framesDropped = (st1?.dropped ?? 0) - (st0?.dropped ?? 0);
      r.score = scoreEvents(
        p.fleet,
        naiveSpec.cameras.map((c) => c.id),
        starts,
        w.from,
        w.to,
      );
      if (m < p.n) r.note = `naive side capped at ${m} of ${p.n} cameras; figures are per camera`;
      if ((st1?.ffmpegExits ?? 0) > 0) say(`naive: ${st1?.ffmpegExits} ffmpeg processes ended early`);
      return r;
    } finally {
      await scope.close(log);
    }
  };

  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? 'unknown',
    loadavg1: round(loadavg()[0] ?? 0, 2),
    memTotalMb: Math.round(totalmem() / MB),
    memFreeMb: Math.round(freemem() / MB),
    node: process.version,
    ffmpeg: `${deps.ffmpeg.version} (${deps.ffmpeg.source})`,
  };

  // The main run: all three sides at --cameras, one after another.
  let gateway: SideResult;
  let limit: SideResult;
  let naive: SideResult;
  {
    const scope = new Scope();
    try {
      const p = await openPoint(scope, opts.cameras);
      gateway = await runGateway(p);
      await sleep(2000, signal);
      limit = await runLimit(p);
      await sleep(2000, signal);
      naive = await runNaive(p, Math.min(opts.cameras, opts.naiveCameras));
    } finally {
      await scope.close(log);
    }
  }

  const sweep: BenchResult['sweep'] = [];
  for (const n of opts.sweep) {
    if (n === opts.cameras) {
      sweep.push({ cameras: n, gateway, limit });
      continue;
    }
    const scope = new Scope();
    try {
      const p = await openPoint(scope, n);
      const g = await runGateway(p);
      await sleep(2000, signal);
      const l = await runLimit(p);
      sweep.push({ cameras: n, gateway: g, limit: l });
    } finally {
      await scope.close(log);
    }
  }
  sweep.sort((a, b) => a.cameras - b.cameras);

  const gs = gateway.score;
  const ns = naive.score;
  const result: BenchResult = {
    at: new Date().toISOString(),
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
    gateway,
    limit,
    naive: { ...naive, recall: round(ns?.recall ?? 0), precision: round(ns?.precision ?? 0) },
    ratios: {
      gatewayToLimit: round(gateway.cpuMsPerCameraSecond / Math.max(1e-9, limit.cpuMsPerCameraSecond)),
      naiveToGateway: round(naive.cpuMsPerCameraSecond / Math.max(1e-9, gateway.cpuMsPerCameraSecond)),
    },
    events: {
      recall: round(gs?.recall ?? 0),
      precision: round(gs?.precision ?? 0),
      latencyMsP50: Math.round(gs?.latencyMsP50 ?? 0),
      latencyMsP95: Math.round(gs?.latencyMsP95 ?? 0),
      appearances: gs?.appearances ?? 0,
      starts: gs?.starts ?? 0,
    },
    simulator: { cpuMsPerStreamSecond: gateway.simulatorCpuMsPerStreamSecond },
    sweep,
  };

  mkdirSync(dirname(opts.out) || '.', { recursive: true });
  if (sweep.length > 0) {
    const chart = opts.out.replace(/\.json$/, '') + '.svg';
    writeFileSync(
      chart,
      lineChartSvg('CPU per camera-second', 'cameras', 'CPU ms per camera-second', [
        {
          name: 'gateway',
          color: '#1f77b4',
          points: sweep.map((s) => ({ x: s.cameras, y: s.gateway.cpuMsPerCameraSecond })),
        },
        {
          name: 'limit (ffmpeg)',
          color: '#d62728',
          points: sweep.map((s) => ({ x: s.cameras, y: s.limit.cpuMsPerCameraSecond })),
        },
      ]),
    );
    result.chart = chart;
  }
  writeFileSync(opts.out, `${JSON.stringify(result, null, 2)}\n`);
  deps.stdout.write(formatTable(result));
  deps.stdout.write(`wrote ${opts.out}${result.chart ? ` and ${result.chart}` : ''}\n`);
  return result;
}

export function formatTable(r: BenchResult): string {
  const f = (x: number | undefined, d = 2): string => (x === undefined ? '-' : x.toFixed(d));
  const header = [
    'side',
    'cameras',
    'cpu ms/cam-s',
    'cpu %',
    'peak RSS MB',
    'MB/cam',
    'decoded',
    'analysed',
    'dropped',
    'recall',
    'precision',
    'lat p50/p95 ms',
    'sim ms/stream-s',
  ];
  const row = (name: string, s: SideResult): string[] => [
    name,
    String(s.cameras),
    f(s.cpuMsPerCameraSecond, 3),
    f(s.cpuPercent, 1),
    f(s.peakRssMb, 0),
    f(s.rssMbPerCamera, 2),
    String(s.framesDecoded),
    String(s.framesAnalysed),
    String(s.framesDropped),
    s.score ? f(s.score.recall) : '-',
    s.score ? f(s.score.precision) : '-',
    s.score ? `${f(s.score.latencyMsP50, 0)}/${f(s.score.latencyMsP95, 0)}` : '-',
    f(s.simulatorCpuMsPerStreamSecond, 3),
  ];
  const rows = [row('gateway', r.gateway), row('limit', r.limit), row('naive', r.naive)];
  for (const s of r.sweep)
    if (s.cameras !== r.cameras)
      rows.push(row(`gateway@${s.cameras}`, s.gateway), row(`limit@${s.cameras}`, s.limit));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]?.length ?? 0)));
  const lines = [header, ...rows].map((x) => x.map((c, i) => c.padStart(widths[i] ?? 0)).join('  '));
  const m = r.machine;
  lines.unshift(
    `facegate bench: ${r.cameras} cameras, ${r.durationS} s after ${r.warmupS} s warm-up; ${m.cpus} x ${m.model}, load ${m.loadavg1} at start, ${m.memFreeMb}/${m.memTotalMb} MB free, node ${m.node}, ffmpeg ${m.ffmpeg}`,
  );
  lines.push(
    `ratios: gateway/limit ${f(r.ratios.gatewayToLimit)}, naive/gateway ${f(r.ratios.naiveToGateway)}; gateway events: ${r.events.appearances} appearances, ${r.events.starts} starts`,
  );
  const keyframes = (s: SideResult): string => {
    const sk = s.framesSkipped ?? {};
    const total = s.framesDecoded + Object.values(sk).reduce((a, b) => a + b, 0);
    const parts = Object.entries(sk).map(([k, v]) => `skipped ${k} ${v}`);
    return `decoded ${s.framesDecoded} of ${total} keyframes (${f((100 * s.framesDecoded) / Math.max(1, total), 1)} %)${parts.length > 0 ? `, ${parts.join(', ')}` : ''}`;
  };
  lines.push(`gateway keyframes: ${keyframes(r.gateway)}`);
  for (const s of r.sweep)
    if (s.cameras !== r.cameras) lines.push(`gateway@${s.cameras} keyframes: ${keyframes(s.gateway)}`);
  if (r.naive.note) lines.push(`note: ${r.naive.note}`);
  if (r.limit.note) lines.push(`note (limit): ${r.limit.note}`);
  return `${lines.join('\n')}\n`;
}

export { Aborted };
