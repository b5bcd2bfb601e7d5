// Startup rolls back: a gateway, simulator or console that fails halfway (a port in use) closes
// what it had started, in reverse, and its CLI exits with its one line. Checked on the machine, not
// on mocks: the process tree (ffmpeg decoders), this process's threads (detector workers), and the
// kernel's TCP table (the broker connection).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test as plainTest } from 'node:test';
import { UserError } from '../shared/errors.ts';
import { createGateway } from '../gateway/index.ts';
import { createSimulator } from '../simulator/index.ts';
import { createConsole } from '../console/server.ts';
import { createLogger } from '../shared/log.ts';
import { connectMqtt } from '../shared/mqtt.ts';
import { assemble, createParts } from '../shared/lifecycle.ts';
import { processTree } from '../shared/proc.ts';
import { startMosquitto } from './helpers/broker.ts';
import { systemFfmpeg, testConfig } from './helpers/city.ts';
import { waitFor } from './helpers/net.ts';
import { testNeeding } from './helpers/tools.ts';

const test = testNeeding('ffmpeg', 'mosquitto');
const bin = fileURLToPath(new URL('../bin/facegate.js', import.meta.url));
const log = createLogger({ level: 'silent', format: 'json' });

plainTest(
  'parts close newest first, each once, within the deadline; errors are collected, not thrown',
  async () => {
    const parts = createParts();
    const order: string[] = [];
    parts.add('a', 1, () => order.push('a'));
    parts.defer('slow', () => new Promise((r) => setTimeout(r, 5000).unref()));
    parts.defer('b', () => {
      order.push('b');
      throw new Error('b broke');
    });
    parts.add('c', 3, async () => order.push('c'));
    const t0 = Date.now();
    const errors = await parts.closeAll(300);
    assert.ok(Date.now() - t0 < 1500, 'a hanging part does not hold the rollback past its deadline');
    assert.deepEqual(order, ['c', 'b'], 'reverse order; a part past the deadline is left');
    assert.deepEqual(
      errors.map((e) => e.name),
      ['b', 'slow', 'a'],
      'b threw, the slow part timed out, a was past the deadline',
    );
    assert.deepEqual(await parts.closeAll(300), [], 'each part closes once');
  },
);

plainTest('assemble: a failure closes what was started, in reverse, and rethrows the failure', async () => {
  const order: string[] = [];
  const failure = new UserError('FACEGATE_ERR_PORT_IN_USE', 'port in use');
  await assert.rejects(
    assemble(
      async (parts) => {
        parts.defer('first', () => order.push('first'));
        parts.defer('second', () => order.push('second'));
        throw failure;
      },
      { deadlineMs: 1000 },
    ),
    (err) => err === failure,
  );
  assert.deepEqual(order, ['second', 'first']);
  assert.equal(await assemble(async () => 42, { deadlineMs: 1000 }), 42);
});

/** ESTABLISHED TCP connections of this machine to `port` (the clients' side). */
function establishedTo(port: number): number {
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const rem = cols[2]?.split(':')[1];
      if (rem && Number.parseInt(rem, 16) === port && cols[3] === '01') n++;
    }
  }
  return n;
}

const threads = (): number => readdirSync('/proc/self/task').length;
/** Child processes of this process other than those it had before (the test broker). */
let ownBefore = new Set<number>();
const children = (): number[] =>
  processTree([process.pid]).filter((p) => p !== process.pid && !ownBefore.has(p));

async function takePort(): Promise<Server> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}
const portOf = (s: Server): number => (s.address() as { port: number }).port;

/** Runs `start` while watching the process tree; returns the child pids seen meanwhile. */
async function watching(start: () => Promise<unknown>): Promise<{ error: unknown; seen: Set<number> }> {
  const seen = new Set<number>();
  const timer = setInterval(() => {
    for (const p of children()) seen.add(p);
  }, 10);
  try {
    await start();
    return { error: undefined, seen };
  } catch (error) {
    // What is still there when the failure comes out (all of it, had nothing been rolled back).
    for (const p of children()) seen.add(p);
    return { error, seen };
  } finally {
    clearInterval(timer);
  }
}

for (const kind of ['rtsp', 'ffmpeg'] as const)
  test(`gateway (${kind} ingest) with its HTTP port taken: rejects; no decoder, worker thread or broker connection remains`, async (t) => {
    const broker = await startMosquitto();
    t.after(() => broker.stop());
    const taken = await takePort();
    t.after(() => new Promise<void>((r) => taken.close(() => r())));
    // Warm the thread pool, so only the gateway's own threads count.
    await Promise.all(Array.from({ length: 8 }, () => import('node:fs/promises').then((f) => f.stat('.'))));
    const baseThreads = threads();
    ownBefore = new Set(processTree([process.pid]));
    const cfg = testConfig([
      `gateway.ingest=${kind}`,
      'gateway.cameras=[{"id":"c1","url":"rtsp://127.0.0.1:9/cam/c1"},{"id":"c2","url":"rtsp://127.0.0.1:9/cam/c2"}]',
      'gateway.detectorThreads=2',
      `mqtt.url=${broker.url}`,
      `http.port=${portOf(taken)}`,
    ]);
    const { error, seen } = await watching(() => createGateway(cfg, { log, ffmpeg: systemFfmpeg() }));
    assert.ok(error instanceof UserError, `createGateway rejects with a UserError: ${String(error)}`);
    assert.equal(error.exitCode, 3);
    assert.match(error.message, /^http: /);
    assert.ok(seen.size > 0, 'the decoders had started before the HTTP server failed');
    await waitFor(() => children().length === 0 || undefined, 5000).catch(() => undefined);
    assert.deepEqual(children(), [], 'every decoder process is gone');
    await waitFor(() => threads() <= baseThreads || undefined, 5000).catch(() => undefined);
    assert.ok(
      threads() <= baseThreads,
      `threads ${threads()} back to ${baseThreads}: the detector workers are gone`,
    );
    // Long enough for the MQTT client to have connected, or reconnected had it been left running.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(establishedTo(broker.port), 0, 'no connection to the broker remains');
  });

test('simulator with its RTSP port taken: rejects with the one line; its broker link is never left open', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const taken = await takePort();
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const before = process.getActiveResourcesInfo().length;
  const cfg = testConfig([`mqtt.url=${broker.url}`, `simulator.port=${portOf(taken)}`, 'city.cameras=2']);
  await assert.rejects(createSimulator(cfg, { log, ffmpeg: systemFfmpeg() }), (err) => {
    assert.ok(err instanceof UserError);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, /^simulator: port \d+ on \S+ is in use/);
    return true;
  });
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(establishedTo(broker.port), 0, 'no connection to the broker');
  assert.ok(
    process.getActiveResourcesInfo().length <= before,
    `no handle left behind: ${process.getActiveResourcesInfo().join(', ')}`,
  );
});

test('console with its port taken: rejects; its MQTT connection is closed', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const taken = await takePort();
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const cfg = testConfig([`mqtt.url=${broker.url}`, `console.port=${portOf(taken)}`]);
  // Slow enough startup for the MQTT link to be connected when the listen fails.
  await assert.rejects(createConsole(cfg, { log, ffmpeg: systemFfmpeg() }), (err) => {
    assert.ok(err instanceof UserError);
    assert.equal(err.exitCode, 3);
    return true;
  });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(establishedTo(broker.port), 0, 'no connection to the broker remains');
});

test('an MQTT link closed while still connecting leaves no connection to the broker', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  // A rollback can close the link in its first milliseconds, before the broker's CONNACK.
  for (const delayMs of [0, 2, 5, 10, 50]) {
    const link = connectMqtt({ url: broker.url, clientId: `rollback-${delayMs}-${process.pid}` }, log);
    await new Promise((r) => setTimeout(r, delayMs));
    await link.close({ timeoutMs: 500 });
  }
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(establishedTo(broker.port), 0);
});

/** Runs the CLI to its exit; fails if it takes longer than `ms` (something kept it alive). */
function cli(args: string[], ms: number): Promise<{ code: number | null; stderr: string; ms: number }> {
  const t0 = Date.now();
  const p = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`facegate ${args[0]} still running after ${ms} ms: ${stderr}`));
    }, ms);
    p.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, ms: Date.now() - t0 });
    });
  });
}

test('`facegate gateway` with its HTTP port taken exits 3 with one line, nothing left running', async (t) => {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const taken = await takePort();
  t.after(() => new Promise<void>((r) => taken.close(() => r())));
  const r = await cli(
    [
      'gateway',
      '--set',
      'log.level=silent',
      '--set',
      `mqtt.url=${broker.url}`,
      '--set',
      `http.port=${portOf(taken)}`,
      '--set',
      'gateway.cameras=[{"id":"c1","url":"rtsp://127.0.0.1:9/cam/c1"}]',
    ],
    30_000,
  );
  assert.equal(r.code, 3, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0] ?? '', /http: .*in use|http: cannot listen/);
});
