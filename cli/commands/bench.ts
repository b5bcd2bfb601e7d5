import type { Command } from '../command.ts';
import { findFfmpeg } from '../runtime.ts';
import { FACEGATE_ERR_USAGE } from '../../shared/errors.ts';
import { runBench, Aborted, type BenchOptions } from '../../bench/run.ts';

const num = (v: unknown, name: string, def: number): number => {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n <= 0)
    throw FACEGATE_ERR_USAGE(`bench: --${name} needs a positive number`);
  return n;
};

export const benchCommand: Command = {
  name: 'bench',
  summary: 'measure the gateway against the ffmpeg limit and a naive pipeline on this machine',
  usage: `facegate bench [--cameras N] [--duration S] [--warmup S] [--naive-cameras M] [--sweep 50,100,200,400] [--quick] [--out FILE]

Starts a broker (embedded) and the simulator (its own process), then runs one after another, each for
the duration after a warm-up: the gateway (its process and its ffmpeg decoders), the limit (ffmpeg
decoding the same streams' keyframes to null) and a naive pipeline (one ffmpeg per camera, fps=1,
detection on every sample; capped at --naive-cameras). CPU and memory come from /proc. Prints a table
and writes JSON (default results/bench-<date>.json); --sweep also writes an SVG chart next to it.
--simulators N splits the cameras among N simulator processes (shards k/N), as a city beyond one
simulator would be; their CPU is summed. --quick: 20 cameras, 30 s, 5 s warm-up, 2 scenes of 20 s.`,
  flags: [
    { name: 'cameras', type: 'string', help: 'cameras (default 200)' },
    { name: 'duration', type: 'string', help: 'measured seconds per side (default 120)' },
    { name: 'warmup', type: 'string', help: 'warm-up seconds per side (default 15)' },
    { name: 'naive-cameras', type: 'string', help: 'cap of the naive side (default 40)' },
    { name: 'sweep', type: 'string', help: 'camera counts for gateway and limit, e.g. 50,100,200,400' },
    { name: 'quick', type: 'boolean', help: '20 cameras, 30 s, 5 s warm-up, small scenes' },
    { name: 'simulators', type: 'string', help: 'simulator shards serving the cameras (default 1)' },
    { name: 'out', type: 'string', help: 'JSON output file' },
  ],
  async run(ctx) {
    const quick = ctx.flags['quick'] === true;
    const loaded = ctx.config();
    const cfg = quick ? { ...loaded, city: { ...loaded.city, scenes: 2, sceneSeconds: 20 } } : loaded;
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const sweepFlag = ctx.flags['sweep'];
    const sweep =
      typeof sweepFlag === 'string' && sweepFlag
        ? sweepFlag
            .split(',')
            .map((s) => num(s.trim(), 'sweep', 1))
            .map(Math.round)
        : [];
    const date = new Date().toISOString().replace(/[:]/g, '-').slice(0, 19);
    const cameras = Math.round(num(ctx.flags['cameras'], 'cameras', quick ? 20 : 200));
    const opts: BenchOptions = {
      cameras,
      durationS: num(ctx.flags['duration'], 'duration', quick ? 30 : 120),
      warmupS: num(ctx.flags['warmup'], 'warmup', quick ? 5 : 15),
      naiveCameras: Math.round(num(ctx.flags['naive-cameras'], 'naive-cameras', 40)),
      sweep,
      limitInputsPerProcess: 16,
      simulators: Math.round(num(ctx.flags['simulators'], 'simulators', 1)),
      out: typeof ctx.flags['out'] === 'string' ? ctx.flags['out'] : `results/bench-${date}.json`,
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
