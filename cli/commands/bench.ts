import type { Command } from '../command.ts';
import { findFfmpeg } from '../runtime.ts';
import { FACEGATE_ERR_USAGE } from '../../shared/errors.ts';
import { runBench, Aborted, type BenchOptions } from '../../bench/run.ts';
import type { CapacityOptions } from '../../bench/capacity-run.ts';
import type { Profile } from '../../bench/report.ts';
import { updateReadme } from '../../bench/readme.ts';

const num = (v: unknown, name: string, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0)
    throw FACEGATE_ERR_USAGE(`bench: --${name} needs a positive number`);
  return n;
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function profiles(v: unknown, configured: string): Profile[] {
  const p = str(v) ?? (configured === 'residential' ? 'residential' : 'busy');
  if (p === 'both') return ['busy', 'residential'];
  if (p === 'busy' || p === 'residential') return [p];
  throw FACEGATE_ERR_USAGE('bench: --profile is busy, residential or both');
}

export const benchCommand: Command = {
  name: 'bench',
  summary:
    'measure the gateway against the ffmpeg limit, a naive and a Frigate-like pipeline on this machine',
  usage: `facegate bench [--profile busy|residential|both] [--cameras N] [--duration S] [--warmup S]
               [--naive-cameras M] [--frigate-cameras F] [--sweep 50,100,200,400] [--quick]
               [--capacity [--capacity-min N] [--capacity-max N] [--capacity-duration S]
                           [--frigate-capacity-max N]] [--baseline FILE] [--out FILE]
facegate bench --readme FILE [--readme-file README.md]

Starts a broker (embedded) and the simulator (its own process), then, per workload (city profile),
runs one after another, each for the duration after a warm-up: the gateway (its process and its ffmpeg
decoders), the limit (ffmpeg decoding the same streams' keyframes to null), a naive pipeline (one
ffmpeg per camera, fps=1, detection on every sample; capped at --naive-cameras) and a Frigate-like
pipeline (one ffmpeg per camera at 5 fps, 320x240, pixel motion on every frame, detection on motion;
capped at --frigate-cameras). CPU and memory come from /proc. Prints a table, the goals of the
benchmark and activity-gate issues (met or missed, and where the gateway's CPU goes), and writes JSON
(default results/bench-<date>.json) with SVG charts next to it.
--capacity searches, per workload, the largest camera count at which the gateway keeps recall >= 0.95
and start latency p95 <= 2.5 s (doubling from --capacity-min, then bisection, up to --capacity-max;
each point a fresh simulator and gateway, measured --capacity-duration s), then the same for the
Frigate-like peer up to --frigate-capacity-max (0: not searched). The bound of its time is printed first.
--baseline FILE compares every figure with a previous run's JSON and marks changes over 10 %.
--readme FILE rewrites the README's generated benchmark section from a report and copies its charts
into docs/. --simulators N splits the cameras among N simulator processes (shards k/N).
--quick: 20 cameras, 30 s, 5 s warm-up, 2 scenes of 20 s (residential clips of 60 s).`,
  flags: [
    { name: 'profile', type: 'string', help: 'workload: busy, residential or both (default city.profile)' },
    { name: 'cameras', type: 'string', help: 'cameras (default 200)' },
    { name: 'duration', type: 'string', help: 'measured seconds per side (default 120)' },
    { name: 'warmup', type: 'string', help: 'warm-up seconds per side (default 15)' },
    { name: 'naive-cameras', type: 'string', help: 'cap of the naive side (default 40)' },
    { name: 'frigate-cameras', type: 'string', help: 'cap of the Frigate-like side (default 20)' },
    { name: 'sweep', type: 'string', help: 'camera counts for gateway and limit, e.g. 50,100,200,400' },
    { name: 'quick', type: 'boolean', help: '20 cameras, 30 s, 5 s warm-up, small scenes' },
    { name: 'simulators', type: 'string', help: 'simulator shards serving the cameras (default 1)' },
    { name: 'capacity', type: 'boolean', help: 'search the largest camera count meeting the criteria' },
    { name: 'capacity-min', type: 'string', help: 'first count of the capacity search (default 50)' },
    { name: 'capacity-max', type: 'string', help: 'largest count of the capacity search (default 1600)' },
    { name: 'capacity-duration', type: 'string', help: 'measured seconds per capacity point (default 60)' },
    {
      name: 'frigate-capacity-max',
      type: 'string',
      help: 'Frigate-like capacity bound (default 32; 0: none)',
    },
    { name: 'baseline', type: 'string', help: "a previous run's JSON to compare with" },
    { name: 'readme', type: 'string', help: 'rewrite the README section from this report JSON' },
    { name: 'readme-file', type: 'string', help: 'README to rewrite (default README.md)' },
    { name: 'out', type: 'string', help: 'JSON output file' },
  ],
  async run(ctx) {
    const readme = str(ctx.flags['readme']);
    if (readme) {
      const file = str(ctx.flags['readme-file']) ?? 'README.md';
      const r = updateReadme(readme, file);
      ctx.stdout.write(
        `rewrote the benchmark section of ${file}${r.charts.length > 0 ? `; charts ${r.charts.join(', ')}` : ''}\n`,
      );
      return 0;
    }
    const quick = ctx.flags['quick'] === true;
    const loaded = ctx.config();
    const cfg = quick
      ? { ...loaded, city: { ...loaded.city, scenes: 2, sceneSeconds: 20, residentialSeconds: 60 } }
      : loaded;
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const sweepFlag = str(ctx.flags['sweep']);
    const sweep = sweepFlag
      ? sweepFlag
          .split(',')
          .map((s) => num(s.trim(), 'sweep', 1))
          .map(Math.round)
      : [];
    const date = new Date().toISOString().replace(/[:]/g, '-').slice(0, 19);
    const cameras = Math.round(num(ctx.flags['cameras'], 'cameras', quick ? 20 : 200));
    const durationS = num(ctx.flags['duration'], 'duration', quick ? 30 : 120);
    const warmupS = num(ctx.flags['warmup'], 'warmup', quick ? 5 : 15);
    const frigateMaxFlag = ctx.flags['frigate-capacity-max'];
    const frigateMax =
      frigateMaxFlag === '0' ? 0 : Math.round(num(frigateMaxFlag, 'frigate-capacity-max', 32));
    const capMin = Math.round(num(ctx.flags['capacity-min'], 'capacity-min', 50));
    const capacity: CapacityOptions | undefined =
      ctx.flags['capacity'] === true
        ? {
            gateway: {
              min: capMin,
              max: Math.max(capMin, Math.round(num(ctx.flags['capacity-max'], 'capacity-max', 1600))),
              resolution: 10,
              relative: 0.05,
            },
            ...(frigateMax > 0
              ? { frigate: { min: Math.min(4, frigateMax), max: frigateMax, resolution: 1, relative: 0.1 } }
              : {}),
            durationS: num(ctx.flags['capacity-duration'], 'capacity-duration', 60),
            warmupS,
          }
        : undefined;
    const baseline = str(ctx.flags['baseline']);
    const opts: BenchOptions = {
      cameras,
      durationS,
      warmupS,
      naiveCameras: Math.round(num(ctx.flags['naive-cameras'], 'naive-cameras', 40)),
      frigateCameras: Math.round(num(ctx.flags['frigate-cameras'], 'frigate-cameras', 20)),
      sweep,
      limitInputsPerProcess: 16,
      simulators: Math.round(num(ctx.flags['simulators'], 'simulators', 1)),
      profiles: profiles(ctx.flags['profile'], cfg.city.profile),
      ...(capacity ? { capacity } : {}),
      ...(baseline ? { baseline } : {}),
      out: str(ctx.flags['out']) ?? `results/bench-${date}.json`,
    };
    const ac = new AbortController();
    const onSignal = (): void => {
      if (ac.signal.aborted) process.exit(130);
      ctx.stderr.write('bench: interrupted; stopping every child process\n');
      ac.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      await runBench(opts, {
        cfg,
        env: ctx.env,
        log,
        ffmpeg,
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        signal: ac.signal,
      });
      return 0;
    } catch (err) {
      if (err instanceof Aborted) return 130;
      throw err;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
