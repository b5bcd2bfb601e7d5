// Named errors (shared/errors.ts) end a real `facegate` process with their one line and exit code:
// a port in use is exit 3 whichever server hits it, a bad configuration exit 2. (An unreachable
// broker, exit 4, is tested with `facegate watch` in test/watch.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  ConfigError,
  describeError,
  exitCodes,
  FACEGATE_ERR_BROKER,
  FACEGATE_ERR_PORT_IN_USE,
  UserError,
} from '../shared/errors.ts';
import { listen, listenError } from '../shared/listen.ts';
import { freePort } from './helpers/net.ts';
import { testSceneCache } from './helpers/city.ts';

const root = new URL('..', import.meta.url).pathname;

/** Runs the CLI; resolves with its exit code and output (killed after 60 s: a hang fails). */
function facegate(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [join(root, 'bin/facegate.js'), ...args, '--log-level', 'silent'], {
    env: { PATH: process.env['PATH'] ?? '' },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    proc.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

async function occupy(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  const port = await listen(server, { host: '127.0.0.1', port: 0, what: 'test', setting: 'none' });
  return { port, server };
}

const oneLine = (s: string): string[] => s.split('\n').filter((l) => l !== '');

test('every error code has its exit code: 2 usage and config, 3 ports and ffmpeg, 4 the broker', () => {
  for (const [code, exit] of Object.entries(exitCodes)) {
    const want = /PORT|FFMPEG/.test(code) ? 3 : /BROKER_URL/.test(code) ? 2 : /BROKER/.test(code) ? 4 : 2;
    assert.equal(exit, want, code);
  }
  const e = FACEGATE_ERR_BROKER('mqtt: gone\nfor good');
  assert.ok(e instanceof UserError);
  assert.deepEqual(describeError(e), {
    line: 'mqtt: gone for good',
    exitCode: 4,
    code: 'FACEGATE_ERR_BROKER',
  });
  assert.equal(describeError(new ConfigError('x'))?.exitCode, 2);
  assert.equal(describeError(new Error('a bug')), undefined, 'anything else is an internal error');
  assert.equal(FACEGATE_ERR_PORT_IN_USE.code, 'FACEGATE_ERR_PORT_IN_USE');
});

test('listen: EADDRINUSE and EACCES become named port errors with the setting to change', async (t) => {
  const busy = await occupy();
  t.after(() => busy.server.close());
  const target = { host: '127.0.0.1', port: busy.port, what: 'http', setting: 'http.port' };
  await assert.rejects(listen(createServer(), target), (err: unknown) => {
    assert.ok(err instanceof UserError);
    assert.equal(err.code, 'FACEGATE_ERR_PORT_IN_USE');
    assert.equal(err.exitCode, 3);
    assert.equal(
      err.message,
      `http: port ${busy.port} on 127.0.0.1 is in use; set http.port (0 = any free port)`,
    );
    return true;
  });
  const denied = listenError(Object.assign(new Error('listen EACCES'), { code: 'EACCES' }), {
    ...target,
    port: 80,
  });
  assert.equal(denied.code, 'FACEGATE_ERR_PORT_DENIED');
  assert.equal(denied.exitCode, 3);
  assert.match(denied.message, /^http: cannot listen on 127\.0\.0\.1:80: EACCES/);
});

test('a port in use: `facegate console` and `facegate up` exit 3 with one line naming the setting', {
  timeout: 120_000,
}, async (t) => {
  const busy = await occupy();
  t.after(() => busy.server.close());
  const nobody = await freePort();
  const con = await facegate([
    'console',
    '--set',
    `console.port=${busy.port}`,
    '--set',
    'console.host=127.0.0.1',
    '--set',
    `mqtt.url=mqtt://127.0.0.1:${nobody}`,
  ]);
  assert.equal(con.code, 3, con.stderr);
  assert.deepEqual(oneLine(con.stderr), [
    `facegate: console: port ${busy.port} on 127.0.0.1 is in use; set console.port (0 = any free port)`,
  ]);
  const up = await facegate(['up', '--set', `broker.port=${busy.port}`, '--set', 'broker.host=127.0.0.1']);
  assert.equal(up.code, 3, up.stderr);
  assert.deepEqual(oneLine(up.stderr), [
    `facegate: broker: port ${busy.port} on 127.0.0.1 is in use; set broker.port (0 = any free port) or give --mqtt-url`,
  ]);
});

test('a port in use: `facegate simulator` exits 3 with one line', { timeout: 300_000 }, async (t) => {
  const busy = await occupy();
  t.after(() => busy.server.close());
  const sim = await facegate([
    'simulator',
    ...['city.scenes=2', 'city.sceneSeconds=20', 'city.cameras=2', `simulator.cacheDir=${testSceneCache}`]
      .concat(['simulator.host=127.0.0.1', `simulator.port=${busy.port}`, 'mqtt.url='])
      .flatMap((s) => ['--set', s]),
  ]);
  assert.equal(sim.code, 3, sim.stderr);
  assert.deepEqual(oneLine(sim.stderr).slice(-1), [
    `facegate: simulator: port ${busy.port} on 127.0.0.1 is in use; set simulator.port (0 = any free port)`,
  ]);
  assert.ok(!sim.stderr.includes('    at '), 'no stack trace');
});

test('a bad configuration exits 2 with one line', async () => {
  const r = await facegate(['gateway', '--set', 'gateway.budgetFps=lots']);
  assert.equal(r.code, 2, r.stderr);
  const lines = oneLine(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^facegate: config: gateway\.budgetFps: /);
});
