// Shared pieces of the fault suite: the figure line every case prints (and appends to
// results/faults.txt for the README table), child processes of the CLI, /proc readings, and the
// latest camera statuses seen on the broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processTree } from '../../shared/proc.ts';
import { test, type TestContext } from 'node:test';
import type { Collector } from '../helpers/mqtt.ts';
import { testSceneCache } from '../helpers/city.ts';

export const bin = fileURLToPath(new URL('../../bin/facegate.js', import.meta.url));
const resultsDir = fileURLToPath(new URL('../../results/', import.meta.url));

/** The CLI flags that give the same small city as testConfig(). */
export const cityArgs = [
  '--set',
  'city.scenes=2',
  '--set',
  'city.sceneSeconds=20',
  '--set',
  `simulator.cacheDir=${testSceneCache}`,
];

/** One line of figures per case: printed as a test diagnostic and appended to results/faults.txt. */
export function figure(t: TestContext, line: string): void {
  mkdirSync(resultsDir, { recursive: true });
  appendFileSync(`${resultsDir}faults.txt`, `${line}\n`);
  t.diagnostic(line);
}

export interface Child {
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** SIGKILL (a crash) and wait for the exit. */
  kill(): Promise<void>;
}

export function spawnCli(args: string[]): Child {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    proc,
    output: () => out,
    exited,
    alive,
    async kill() {
      if (alive()) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Processes a process started (its decoders), live now. */
export function childrenOf(pid: number): number[] {
  return processTree([pid]).filter((p) => p !== pid);
}

export function isAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** Resident memory of a process in MB, 0 when it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Camera ids an ffmpeg decoder reads, from the rtsp://.../cam/<id> URLs of its command line. */
export function decoderCameras(pid: number): string[] {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.flatMap((a) => {
      const m = /^rtsps?:\/\/.*\/cam\/([^/?]+)$/.exec(a);
      return m?.[1] ? [m[1]] : [];
    });
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

export const secs = (ms: number): string => (ms / 1000).toFixed(1);

export interface StatusSeen {
  camera: string;
  status: string;
  gatewayId: string;
  retained: boolean;
  at: number;
}

/** Every camera status message seen, in order (topic <prefix>/cameras/<id>/status). */
export function cameraStatusHistory(sub: Collector): StatusSeen[] {
  const out: StatusSeen[] = [];
  for (const m of sub.messages) {
    const id = /\/cameras\/([^/]+)\/status$/.exec(m.topic)?.[1];
    if (!id || m.payload === '') continue;
    const p = JSON.parse(m.payload) as { status?: unknown; gatewayId?: unknown };
    out.push({
      camera: id,
      status: String(p.status),
      gatewayId: String(p.gatewayId),
      retained: m.retained,
      at: m.at,
    });
  }
  return out;
}

/** The latest status per camera. */
export function latestStatuses(sub: Collector): Map<string, StatusSeen> {
  const latest = new Map<string, StatusSeen>();
  for (const s of cameraStatusHistory(sub)) latest.set(s.camera, s);
  return latest;
}

/**
 * Cleanup in reverse order of setup (node:test runs t.after hooks in registration order, which
 * would stop the broker before the gateway flushed), each step bounded so that nothing stuck can
 * hang the suite; a stuck step fails the test instead.
 */
export function cleanup(t: TestContext): (what: string, fn: () => unknown) => void {
  const steps: { what: string; fn: () => unknown }[] = [];
  t.after(async () => {
    const stuck: string[] = [];
    for (const { what, fn } of steps.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        Promise.resolve()
          .then(fn)
          .then(
            () => true,
            () => true,
          ),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 15_000))),
      ]);
      clearTimeout(timer);
      if (!ok) stuck.push(what);
    }
    if (stuck.length > 0) throw new Error(`cleanup stuck for 15 s: ${stuck.join(', ')}`);
  });
  return (what, fn) => void steps.push({ what, fn });
}

/** The gateway's two ingest sources: every fault case runs on each. */
export type IngestKind = 'rtsp' | 'ffmpeg';

/** Both kinds, or the one `npm run test:faults -- --ingest <kind>` chose (FACEGATE_FAULTS_INGEST). */
export function faultIngests(): IngestKind[] {
  const only = process.env['FACEGATE_FAULTS_INGEST'];
  return only === 'rtsp' || only === 'ffmpeg' ? [only] : ['rtsp', 'ffmpeg'];
}

/**
 * Config for a kind. `counting`: a case that counts frames per camera wants every keyframe decoded
 * as it comes, so the rtsp ingest's activity gate (and, if asked, decode on demand) is off there.
 */
export function ingestSets(kind: IngestKind, o: { counting?: boolean; onDemand?: boolean } = {}): string[] {
  const sets = [`gateway.ingest=${kind}`];
  if (kind === 'rtsp' && o.counting) sets.push('gateway.ingest.activityGate=false');
  if (kind === 'rtsp' && o.onDemand === false) sets.push('gateway.ingest.decodeOnDemand=false');
  return sets;
}

/** The same as CLI flags. */
export const ingestArgs = (kind: IngestKind, o: Parameters<typeof ingestSets>[1] = {}): string[] =>
  ingestSets(kind, o).flatMap((s) => ['--set', s]);

/** Registers a fault case once per ingest kind. */
export function testEachIngest(name: string, fn: (t: TestContext, kind: IngestKind) => Promise<void>): void {
  for (const kind of faultIngests()) test(`${name} (${kind} ingest)`, (t) => fn(t, kind));
}
