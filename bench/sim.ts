// Simulator benchmark: CPU ms per session-second, RSS per session and real-time lag of our RTSP
// server at several session counts, and of GStreamer's RTSP server serving the same clip as one
// shared live stream. Server and load reader run in separate child processes; the server's CPU
// comes from /proc/<pid>/stat over the measured window.
//
//   node --import tsx bench/sim.ts [--sessions 200,1000,2000] [--duration 20] [--warmup 4]
//        [--servers facegate,gstreamer] [--clip file.h264 --width 640 --height 360 --fps 10]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeTestClip } from './clip-fixture.ts';
import type { LoadStats } from '../simulator/rtsp/load-reader.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    sessions: { type: 'string', default: '200,1000,2000' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '4' },
    servers: { type: 'string', default: 'facegate,gstreamer' },
    clip: { type: 'string' },
    width: { type: 'string', default: '640' },
    height: { type: 'string', default: '360' },
    fps: { type: 'string', default: '10' },
    out: { type: 'string', default: 'results/sim-bench.json' },
  },
});
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const fps = Number(args.fps);
const clip =
  args.clip ??
  makeTestClip(join(tmpdir(), 'facegate-bench'), { bitrateKbps: 480, seconds: 20, gopS: 2, fps }).file;
const clkTck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuMs(pid: number): number {
  // Fields after the ")" of comm: utime and stime are the 12th and 13th (proc(5): 14 and 15).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / clkTck;
}
function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** Yields the child's stdout lines as parsed JSON, one at a time. */
function jsonLines(child: ChildProcess): () => Promise<Record<string, unknown>> {
  const rl = createInterface({ input: child.stdout! });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((v: Record<string, unknown>) => void)[] = [];
  rl.on('line', (line) => {
    let v: Record<string, unknown>;
    try {
      v = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const w = waiters.shift();
    if (w) w(v);
    else queue.push(v);
  });
  return () => {
    const v = queue.shift();
    return v ? Promise.resolve(v) : new Promise((r) => waiters.push(r));
  };
}
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timeout: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
function stop(child: ChildProcess, ms = 5000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.stdin?.end();
    if (child.spawnargs[0]?.includes('python')) child.kill('SIGTERM');
  });
}

interface Point {
  server: string;
  sessions: number;
  playing: number;
  failed: number;
  cpuMsPerSessionS: number;
  cpuPercent: number;
  readerCpuPercent: number;
  rssIdleMB: number;
  rssMB: number;
  mbPerSession: number;
  lagMs: LoadStats['lagMs'];
  seqGaps: number;
  lostPackets: number;
  kbpsPerSession: number;
  fpsPerSession: number;
}

async function measure(server: string, sessions: number): Promise<Point> {
  const srv =
    server === 'gstreamer'
      ? spawn('/usr/bin/python3', [join(here, 'gst-rtsp-peer.py'), '--clip', clip, '--fps', String(fps)], {
          stdio: ['pipe', 'pipe', 'inherit'],
        })
      : spawn(
          process.execPath,
          [
            '--expose-gc',
            '--import',
            'tsx',
            join(here, 'sim-child-server.ts'),
            clip,
            args.width,
            args.height,
            String(fps),
          ],
          { stdio: ['pipe', 'pipe', 'inherit'] },
        );
  const srvLine = jsonLines(srv);
  const port = Number((await withTimeout(srvLine(), 30_000, 'server start'))['port']);
  const collect = async (): Promise<void> => {
    if (server === 'gstreamer') return;
    srv.stdin!.write('gc\n');
    await withTimeout(srvLine(), 10_000, 'gc');
  };
  await sleep(1500);
  await collect();
  await sleep(500);
  await collect();
  const rssIdle = rssMB(srv.pid!);
  const path = server === 'gstreamer' ? '/cam/shared' : 'cams';
  const reader = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'sim-child-reader.ts'), String(port), String(sessions), path],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const readerLine = jsonLines(reader);
  try {
    const ready = await withTimeout(readerLine(), 180_000, 'sessions set up');
    await sleep(warmupS * 1000);
    reader.stdin!.write('reset\n');
    const c0 = cpuMs(srv.pid!);
    const r0 = cpuMs(reader.pid!);
    const t0 = performance.now();
    await sleep(durationS * 1000);
    const c1 = cpuMs(srv.pid!);
    const r1 = cpuMs(reader.pid!);
    const wall = (performance.now() - t0) / 1000;
    await collect();
    const rss = rssMB(srv.pid!);
    reader.stdin!.write('stats\n');
    const st = (await withTimeout(readerLine(), 10_000, 'reader stats')) as unknown as LoadStats;
    const playing = st.playing;
    return {
      server,
      sessions,
      playing,
      failed: Number(ready['failed'] ?? 0),
      cpuMsPerSessionS: (c1 - c0) / (Math.max(1, playing) * wall),
      cpuPercent: ((c1 - c0) / (wall * 1000)) * 100,
      readerCpuPercent: ((r1 - r0) / (wall * 1000)) * 100,
      rssIdleMB: rssIdle,
      rssMB: rss,
      mbPerSession: (rss - rssIdle) / Math.max(1, playing),
      lagMs: st.lagMs,
      seqGaps: st.seqGaps,
      lostPackets: st.lostPackets,
      kbpsPerSession: (st.bytes * 8) / 1000 / wall / Math.max(1, playing),
      fpsPerSession: st.frames / wall / Math.max(1, playing),
    };
  } finally {
    await stop(reader);
    await stop(srv);
  }
}

const points: Point[] = [];
for (const n of args.sessions.split(',').map(Number)) {
  for (const server of args.servers.split(',')) {
    process.stderr.write(`${new Date().toISOString()} measuring ${server} at ${n} sessions...\n`);
    points.push(await measure(server, n));
    await sleep(1000);
  }
}

const f = (x: number, d = 2): string => x.toFixed(d);
const header = [
  'server',
  'sessions',
  'playing',
  'cpu ms/sess-s',
  'cpu %',
  'reader %',
  'rss MB',
  'MB/sess',
  'lag p50/p95/max ms',
  'gaps',
  'kb/s/sess',
  'fps/sess',
];
const rows = points.map((p) => [
  p.server,
  String(p.sessions),
  String(p.playing),
  f(p.cpuMsPerSessionS, 3),
  f(p.cpuPercent, 1),
  f(p.readerCpuPercent, 1),
  f(p.rssMB, 0),
  f(p.mbPerSession, 3),
  `${f(p.lagMs.p50, 0)}/${f(p.lagMs.p95, 0)}/${f(p.lagMs.max, 0)}`,
  String(p.seqGaps),
  f(p.kbpsPerSession, 0),
  f(p.fpsPerSession, 1),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));

mkdirSync(dirname(args.out), { recursive: true });
writeFileSync(
  args.out,
  `${JSON.stringify({ at: new Date().toISOString(), clip, durationS, warmupS, points }, null, 2)}\n`,
);
console.log(`wrote ${args.out}`);
