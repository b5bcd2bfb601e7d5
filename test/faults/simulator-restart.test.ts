// Fault: the simulator (every camera at once) is SIGKILLed and comes back on the same port a few
// seconds later. Every camera must be online again within 30 s, and the gateway's reconnections
// must spread out in time (jittered backoff) rather than arrive as one thundering herd.
import assert from 'node:assert/strict';
import { createGateway } from '../../gateway/index.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { freePort, waitFor, waitForPort } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import {
  cameraStatusHistory,
  cityArgs,
  cleanup,
  figure,
  ingestSets,
  latestStatuses,
  percentile,
  secs,
  sleep,
  spawnCli,
  testEachIngest,
  type Child,
} from './support.ts';

const CAMERAS = 8;
const DOWN_MS = 4000;

testEachIngest(
  'simulator SIGKILLed and restarted on the same port: every camera back online within 30 s, reconnections spread',
  async (t, kind) => {
    const defer = cleanup(t);
    const broker = await startTestBroker();
    defer('broker', () => broker.stop());
    const port = await freePort();
    const simArgs = [
      'simulator',
      '--port',
      String(port),
      '--cameras',
      String(CAMERAS),
      '--mqtt-url',
      broker.url,
      '--set',
      'log.level=warn',
      ...cityArgs,
    ];
    const children: Child[] = [];
    defer('simulator children', () => Promise.all(children.map((c) => c.kill())));
    const startSim = async (): Promise<Child> => {
      const c = spawnCli(simArgs);
      children.push(c);
      await Promise.race([
        waitForPort(port, 60_000),
        c.exited.then((r) =>
          Promise.reject(new Error(`simulator exited (${JSON.stringify(r)}):\n${c.output().slice(-2000)}`)),
        ),
      ]);
      return c;
    };
    const sim = await startSim();

    const sub = await collect(broker.url, ['facegate/cameras/+/status']);
    defer('sub', () => sub.close());
    const { log } = captureLogger('silent');
    const gw = await createGateway(
      testConfig([`mqtt.url=${broker.url}`, 'gateway.settleS=0.5', 'gateway.stallS=5', ...ingestSets(kind)]),
      { log, ffmpeg: systemFfmpeg(), http: false },
    );
    defer('gw', () => gw.close());
    const allOnline = (): boolean => {
      const l = latestStatuses(sub);
      return l.size === CAMERAS && [...l.values()].every((s) => s.status === 'online');
    };
    await waitFor(allOnline, 40_000, `${CAMERAS} cameras online`);

    const killedAt = Date.now();
    await sim.kill();
    // The gateway notices: every camera leaves online (the RTSP sockets are reset).
    await waitFor(
      () => [...latestStatuses(sub).values()].every((s) => s.status !== 'online'),
      20_000,
      'every camera reported down',
    );
    const noticedMs = Math.max(...[...latestStatuses(sub).values()].map((s) => s.at)) - killedAt;
    const downStatuses = [...new Set([...latestStatuses(sub).values()].map((s) => s.status))]
      .sort()
      .join('/');
    await sleep(Math.max(0, killedAt + DOWN_MS - Date.now()));

    await startSim();
    const backAt = Date.now(); // the RTSP port accepts connections again
    await waitFor(allOnline, 30_000, 'every camera back online within 30 s of the restart').catch(
      (err: Error) => {
        const l = [...latestStatuses(sub).values()].map((s) => `${s.camera}=${s.status}`).join(' ');
        throw new Error(`${err.message}: ${l}`);
      },
    );
    // First online per camera after the restart.
    const firstOnline = new Map<string, number>();
    for (const s of cameraStatusHistory(sub))
      if (s.at >= backAt && s.status === 'online' && !firstOnline.has(s.camera))
        firstOnline.set(s.camera, s.at - backAt);
    const delays = [...firstOnline.values()];
    const min = Math.min(...delays);
    const max = Math.max(...delays);
    const p50 = percentile(delays, 50);
    figure(
      t,
      `FAULT simulator-restart (${kind} ingest): ${CAMERAS} cameras, down ${secs(backAt - killedAt)} s (noticed in ${secs(noticedMs)} s as ${downStatuses}), all online ${secs(max)} s after restart; reconnect spread min ${secs(min)} s, p50 ${secs(p50)} s, max ${secs(max)} s`,
    );
    assert.equal(firstOnline.size, CAMERAS);
    assert.ok(max <= 30_000, `last camera online ${max} ms after the restart`);
    // Not all in lockstep: with jittered backoff the reconnections span some time.
    assert.ok(max - min >= 200, `reconnections within ${max - min} ms of each other: a thundering herd`);
  },
);
