// Fault: four times the cameras the gateway may analyse (budgetFps 5 against 20 cameras at one
// keyframe a second, motion gate off so every frame asks for analysis). The gateway stays up,
// memory stays flat, every camera is still analysed at a fair reduced rate, and drops are counted.
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway } from '../../gateway/index.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import { cleanup, figure, ingestSets, rssMb, sleep, testEachIngest } from './support.ts';

const CAMERAS = 20;
const BUDGET = 5;
const RUN_MS = 45_000;

testEachIngest(
  'overload 4x: gateway stays up, memory flat, every camera analysed at a fair reduced rate, drops counted',
  async (t, kind) => {
    const defer = cleanup(t);
    const broker = await startTestBroker();
    defer('broker', () => broker.stop());
    const { log } = captureLogger('silent');
    const cfg = testConfig([
      `mqtt.url=${broker.url}`,
      `city.cameras=${CAMERAS}`,
      'gateway.settleS=0.5',
      `gateway.budgetFps=${BUDGET}`,
      'gateway.motionThreshold=0',
      ...ingestSets(kind, { counting: true }),
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    defer('sim', () => sim.close());
    const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
    defer('gw', () => gw.close());
    await waitFor(() => gw.stats().cameras.online === CAMERAS, 40_000, `${CAMERAS} cameras online`);
    await sleep(5000); // warm-up: decoders and detector at steady state

    const start = gw.analysis();
    const startedAt = Date.now();
    // RSS of this process (gateway, and the simulator sharing it) and of the decoders, every second.
    const own: number[] = [];
    const decoders: number[] = [];
    const sample = setInterval(() => {
      own.push(process.memoryUsage.rss() / 1048576);
      decoders.push(gw.pids().reduce((s, pid) => s + rssMb(pid), 0));
    }, 1000);
    defer('sampler', () => clearInterval(sample));
    await sleep(RUN_MS);
    clearInterval(sample);
    const end = gw.analysis();
    const elapsedS = (Date.now() - startedAt) / 1000;

    const per = Object.keys(end.cameras).map(
      (id) => (end.cameras[id]?.analysed ?? 0) - (start.cameras[id]?.analysed ?? 0),
    );
    const offered = end.total.offered - start.total.offered;
    const analysed = end.total.analysed - start.total.analysed;
    const superseded = end.total.dropped.superseded - start.total.dropped.superseded;
    // Decode on demand (rtsp): a keyframe replaced before its turn is discarded still compressed.
    const discarded = end.total.discarded - start.total.discarded;
    const minA = Math.min(...per);
    const maxA = Math.max(...per);
    const third = Math.floor(own.length / 3);
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
    const ownFirst = mean(own.slice(0, third));
    const ownLast = mean(own.slice(-third));
    const decFirst = mean(decoders.slice(0, third));
    const decLast = mean(decoders.slice(-third));
    const stats = gw.stats();

    figure(
      t,
      `FAULT overload (${kind} ingest): ${CAMERAS} cameras at ${(offered / elapsedS).toFixed(1)} frames/s for a budget of ${BUDGET}/s (${(offered / elapsedS / BUDGET).toFixed(1)}x), analysed ${(analysed / elapsedS).toFixed(1)}/s, per camera ${minA}..${maxA} in ${elapsedS.toFixed(0)} s, dropped ${superseded} superseded (${((100 * superseded) / Math.max(1, offered)).toFixed(0)} %) and ${discarded} undecoded (${((100 * discarded) / Math.max(1, offered)).toFixed(0)} %), RSS ${ownFirst.toFixed(0)} -> ${ownLast.toFixed(0)} MB (decoders ${decFirst.toFixed(0)} -> ${decLast.toFixed(0)} MB), ${stats.cameras.online}/${CAMERAS} online`,
    );
    assert.equal(per.length, CAMERAS, 'every camera reaches the analyzer');
    assert.ok(
      offered / elapsedS >= 3 * BUDGET,
      `the load must exceed the budget (offered ${(offered / elapsedS).toFixed(1)}/s)`,
    );
    // The budget holds (with the token bucket's burst at the edges) and is used.
    assert.ok(
      analysed / elapsedS <= BUDGET * 1.1,
      `analysed ${(analysed / elapsedS).toFixed(2)}/s over a budget of ${BUDGET}`,
    );
    assert.ok(
      analysed / elapsedS >= BUDGET * 0.7,
      `analysed only ${(analysed / elapsedS).toFixed(2)}/s of a budget of ${BUDGET}`,
    );
    // Fair: every camera analysed, within a factor of 2 of each other.
    assert.ok(minA > 0, 'a camera was never analysed');
    assert.ok(maxA <= 2 * minA, `per-camera analysed counts ${minA}..${maxA} are not within a factor of 2`);
    // Nothing queues: each offered frame was analysed, dropped (counted) or is still waiting (<= 1 per camera).
    if (kind === 'ffmpeg') assert.ok(superseded > 0, 'overload must show as superseded drops');
    else {
      // The rtsp ingest decodes on demand: overload is keyframes discarded undecoded, and no
      // decoded frame is thrown away.
      assert.ok(discarded > 0, 'overload must show as keyframes discarded undecoded');
      assert.equal(superseded, 0, 'no decoded frame superseded');
    }
    const accounted = analysed + superseded + discarded;
    assert.ok(
      Math.abs(offered - accounted) <= 2 * CAMERAS,
      `offered ${offered} vs analysed + dropped ${accounted}`,
    );
    // Memory flat: the last third not above the first by more than 15 % (+ 20 MB of GC noise).
    assert.ok(
      ownLast <= ownFirst * 1.15 + 20,
      `gateway RSS grew from ${ownFirst.toFixed(0)} to ${ownLast.toFixed(0)} MB`,
    );
    assert.ok(
      decLast <= decFirst * 1.15 + 20,
      `decoder RSS grew from ${decFirst.toFixed(0)} to ${decLast.toFixed(0)} MB`,
    );
    assert.equal(stats.cameras.online, CAMERAS, 'every camera still online');
  },
);
