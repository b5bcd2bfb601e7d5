// Experiment: ffmpeg reading RTSP (gateway/decode, today's default) against the gateway taking
// RTSP in itself and feeding keyframes to pooled decoders (gateway/ingest). One simulator child
// serves the cameras; each side runs alone in its own child process (Node + its ffmpegs), so its
// process tree is exactly what is measured: CPU over the window, Pss (private memory, shared
// pages split) at the end, frames delivered.
//
//   node --import tsx bench/ingest-compare.ts [--cameras 100,200] [--duration 60] [--warmup 15] [--per-decoder 48]
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { resolveFfmpeg } from '../shared/ffmpeg.ts';
import { cpuMs } from '../shared/proc.ts';
import { createLogger } from '../shared/log.ts';
import { createFfmpegIngest } from '../gateway/ingest/ffmpeg/supervisor.ts';
import type { Ingest } from '../gateway/ingest/contract.ts';
import type { Frame } from '../gateway/frame.ts';
import { createRtspIngest } from '../gateway/ingest/rtsp/supervisor.ts';
import { cliPath, startChild } from './children.ts';
import { processTree, treeMeter } from './proc-tree.ts';

interface SideSpec {
  side: 'ffmpeg' | 'node';
  base: string;
  cameras: number;
  durationS: number;
  warmupS: number;
  perDecoder: number;
}

interface SideResult {
  side: string;
  cameras: number;
  online: number;
  cpuMsPerCamS: number;
  /** The Node process alone (the gateway side's own work: RTSP/RTP for the node ingest). */
  nodeCpuMsPerCamS: number;
  pssMbPerCam: number;
  nodePssMb: number;
  ffmpegPssMb: number;
  processes: number;
  framesPerCamS: number;
  /** p50, p95, max of captureTs -> onFrame. */
  latencyMs: number[];
  extra: string;
}

/** Proportional set size in bytes (Linux >= 4.14), or 0 when the process is gone. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runSide(spec: SideSpec): Promise<SideResult> {
  const log = createLogger({ level: 'warn', format: 'json' });
  const ffmpeg = resolveFfmpeg('', process.env['PATH'] ?? '');
  let frames = 0;
  let measuring: boolean = false;
  const lat: number[] = [];
  // Node side: captureTs is the keyframe's arrival, so this is arrival -> decoded frame (queueing
  // included). The ffmpeg side stamps frames on arrival from its pipe: 0 there, not comparable.
  const onFrame = (f: Frame): void => {
    frames++;
    if (measuring && lat.length < 1_000_000) lat.push(Date.now() - f.captureTs);
  };
  const deps = { log, onFrame, onStatus: () => undefined };
  const common = { mode: 'keyframes', stallS: 10, ffmpeg, width: 320, height: 240 };
  const sup: Ingest & { counters?: () => unknown } =
    spec.side === 'ffmpeg'
      ? createFfmpegIngest({ ...common, camerasPerDecoder: 16 }, deps)
      : createRtspIngest({ ...common, camerasPerDecoder: spec.perDecoder }, deps);
  const ids = Array.from({ length: spec.cameras }, (_, i) => String(i + 1).padStart(6, '0'));
  sup.setCameras(ids.map((id) => ({ id, url: `${spec.base}/cam/${id}` })));
  const online = (): number => sup.stats().cameras.filter((c) => c.status === 'online').length;
  const deadline = Date.now() + 120_000;
  while (online() < spec.cameras && Date.now() < deadline) await sleep(500);
  await sleep(spec.warmupS * 1000);
  const meter = treeMeter(() => [process.pid]);
  const own0 = cpuMs(process.pid) ?? 0;
  const f0 = frames;
  measuring = true;
  const t0 = performance.now();
  for (let i = 0; i < spec.durationS; i++) {
    await sleep(1000);
    meter.sample();
  }
  const seconds = (performance.now() - t0) / 1000;
  measuring = false;
  lat.sort((a, b) => a - b);
  const pct = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0;
  const delivered = frames - f0;
  const cpu = meter.cpuMs();
  const own = (cpuMs(process.pid) ?? 0) - own0;
  const tree = processTree([process.pid]);
  const nodePss = pssBytes(process.pid);
  let ffPss = 0;
  for (const p of tree) if (p !== process.pid) ffPss += pssBytes(p);
  const result: SideResult = {
    side: spec.side,
    cameras: spec.cameras,
    online: online(),
    cpuMsPerCamS: cpu / seconds / spec.cameras,
    nodeCpuMsPerCamS: own / seconds / spec.cameras,
    pssMbPerCam: (nodePss + ffPss) / 2 ** 20 / spec.cameras,
    nodePssMb: nodePss / 2 ** 20,
    ffmpegPssMb: ffPss / 2 ** 20,
    processes: tree.length - 1,
    framesPerCamS: delivered / seconds / spec.cameras,
    latencyMs: [pct(0.5), pct(0.95), pct(1)],
    extra: sup.counters ? JSON.stringify(sup.counters()) : '',
  };
  await sup.close();
  return result;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      cameras: { type: 'string', default: '100,200' },
      duration: { type: 'string', default: '60' },
      warmup: { type: 'string', default: '15' },
      'per-decoder': { type: 'string', default: '48' },
      sides: { type: 'string', default: 'ffmpeg,node' },
    },
  });
  const counts = values.cameras.split(',').map(Number);
  const max = Math.max(...counts);
  const say = (s: string): void =>
    void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ingest-compare: ${s}\n`);
  say(
    `load average before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const sim = startChild(
    [
      cliPath,
      'simulator',
      '--cameras',
      String(max),
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--set',
      'log.level=warn',
    ],
    process.env,
    process.stderr,
  );
  const results: SideResult[] = [];
  try {
    const m = await sim.waitLine(/at (rtsp:\/\/\S+)\/cam\/\d+/, 900_000, 'simulator ready');
    const base = m[1] ?? '';
    say(`simulator at ${base}`);
    const tsx = import.meta.resolve('tsx');
    const self = fileURLToPath(import.meta.url);
    for (const n of counts) {
      for (const side of values.sides.split(',') as SideSpec['side'][]) {
        const spec: SideSpec = {
          side,
          base,
          cameras: n,
          durationS: Number(values.duration),
          warmupS: Number(values.warmup),
          perDecoder: Number(values['per-decoder']),
        };
        say(
          `${side} ingest, ${n} cameras: ${spec.durationS} s after ${spec.warmupS} s warm-up (load ${loadavg()[0]?.toFixed(2)})`,
        );
        const child = startChild(
          ['--import', tsx, self, '--child', JSON.stringify(spec)],
          process.env,
          process.stderr,
        );
        const line = await child.waitLine(
          /^RESULT (.*)$/,
          (spec.durationS + spec.warmupS + 200) * 1000,
          `${side} ${n}`,
        );
        await child.close(15_000);
        const r = JSON.parse(line[1] ?? '{}') as SideResult;
        results.push(r);
        say(
          `  -> ${r.cpuMsPerCamS.toFixed(2)} ms/cam-s, ${r.pssMbPerCam.toFixed(2)} MB/cam, ${r.framesPerCamS.toFixed(3)} frames/cam-s, online ${r.online}/${n} ${r.extra}`,
        );
      }
    }
  } finally {
    await sim.close(8000);
  }
  const la = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const rows = [
    [
      'side',
      'cameras',
      'online',
      'CPU ms/cam-s',
      'of it node',
      'Pss MB/cam',
      'node Pss MB',
      'ffmpeg Pss MB',
      'ffmpegs',
      'frames/cam-s',
      'arrival->frame p50/p95/max ms',
    ],
    ...results.map((r) => [
      r.side,
      String(r.cameras),
      String(r.online),
      r.cpuMsPerCamS.toFixed(2),
      r.nodeCpuMsPerCamS.toFixed(2),
      r.pssMbPerCam.toFixed(2),
      r.nodePssMb.toFixed(0),
      r.ffmpegPssMb.toFixed(0),
      String(r.processes),
      r.framesPerCamS.toFixed(3),
      r.side === 'node' ? r.latencyMs.join('/') : '-',
    ]),
  ];
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')}\n`);
  process.stdout.write(`load average after: ${la}\n`);
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const spec = JSON.parse(process.argv[childAt + 1] ?? '{}') as SideSpec;
  runSide(spec).then(
    (r) => {
      process.stdout.write(`RESULT ${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exitCode = 1;
  });
}
