// Fault: one ffmpeg decoder of the gateway is SIGKILLed. Its cameras must deliver frames again
// within 10 s; the cameras of the other decoder must not lose a frame meanwhile.
// ffmpeg ingest: a decoder reads three cameras' URLs (its command line names them). rtsp ingest: a
// pooled keyframe decoder serves any camera, so every camera counts as hit; at most the unit in
// flight (and the ones queued behind it until the restart) may be lost, a frame or two per camera.
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway, type Gateway } from '../../gateway/index.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import {
  cleanup,
  decoderCameras,
  figure,
  ingestSets,
  isAlive,
  secs,
  sleep,
  testEachIngest,
} from './support.ts';

const CAMERAS = 6;
const WINDOW_MS = 8000;

/** Frames decoded per camera so far (every decoded frame is offered to the analyzer). */
function frames(gw: Gateway): Map<string, number> {
  return new Map(Object.entries(gw.analysis().cameras).map(([id, c]) => [id, c.offered]));
}

testEachIngest(
  'an ffmpeg decoder SIGKILLed: its cameras resume within 10 s, the other decoder loses no frames',
  async (t, kind) => {
    const defer = cleanup(t);
    const broker = await startTestBroker();
    defer('broker', () => broker.stop());
    const { log } = captureLogger('silent');
    // Three cameras per decoder: two decoders. No motion gate, so every decoded frame is counted.
    const cfg = testConfig([
      `mqtt.url=${broker.url}`,
      `city.cameras=${CAMERAS}`,
      'gateway.settleS=0.5',
      'gateway.motionThreshold=0',
      // Every keyframe decoded as it comes: the activity gate and decode on demand would hide the rate.
      ...ingestSets(kind, { counting: true, onDemand: false }),
      'gateway.ingest.camerasPerDecoder=3',
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    defer('sim', () => sim.close());
    const gw = await createGateway(cfg, { log, ffmpeg: systemFfmpeg(), http: false });
    defer('gw', () => gw.close());
    await waitFor(
      () => gw.stats().cameras.online === CAMERAS && gw.pids().length === 2,
      30_000,
      `${CAMERAS} cameras online on two decoders`,
    );
    await sleep(3000);

    const [victim] = gw.pids();
    assert.ok(victim !== undefined);
    const hit = kind === 'ffmpeg' ? decoderCameras(victim) : gw.cameras();
    const others = gw.cameras().filter((c) => !hit.includes(c));
    if (kind === 'ffmpeg') {
      assert.equal(hit.length, 3, `decoder ${victim} reads three cameras: ${hit.join(', ')}`);
      assert.equal(others.length, 3);
    }

    // Baseline: frames per camera over a window before the kill.
    const b0 = frames(gw);
    await sleep(WINDOW_MS);
    const b1 = frames(gw);
    const killedAt = Date.now();
    process.kill(victim, 'SIGKILL');
    const atKill = frames(gw);

    // Its cameras resume: each delivers a frame again.
    const resumed = new Map<string, number>();
    await waitFor(
      () => {
        const now = frames(gw);
        for (const c of hit)
          if (!resumed.has(c) && (now.get(c) ?? 0) > (atKill.get(c) ?? 0))
            resumed.set(c, Date.now() - killedAt);
        return resumed.size === hit.length;
      },
      20_000,
      "the killed decoder's cameras to deliver frames again",
    ).catch(() => undefined);
    await sleep(Math.max(0, killedAt + WINDOW_MS - Date.now()));
    const a1 = frames(gw);
    const windowMs = Date.now() - killedAt;

    const rate = (from: Map<string, number>, to: Map<string, number>, c: string): number =>
      (to.get(c) ?? 0) - (from.get(c) ?? 0);
    const before = others.map((c) => rate(b0, b1, c));
    const after = others.map((c) => rate(atKill, a1, c));
    const hitBefore = hit.map((c) => rate(b0, b1, c));
    const hitAfter = hit.map((c) => rate(atKill, a1, c));
    const worstResume = Math.max(...resumed.values());
    figure(
      t,
      `FAULT decoder-kill (${kind} ingest): decoder of ${hit.length} cameras SIGKILLed, resumed in ${resumed.size === hit.length ? `${secs(worstResume)} s` : 'never'}; ${gw.stats().cameras.online}/${CAMERAS} online after; other ${others.length} cameras ${after.join('/')} frames in ${secs(windowMs)} s after vs ${before.join('/')} in ${secs(WINDOW_MS)} s before; hit cameras ${hitAfter.join('/')} after vs ${hitBefore.join('/')} before`,
    );
    assert.equal(isAlive(victim), false, 'the killed decoder is gone');
    assert.equal(
      resumed.size,
      hit.length,
      `cameras resumed: ${[...resumed.keys()].join(', ')} of ${hit.join(', ')}`,
    );
    assert.ok(worstResume <= 10_000, `a camera resumed only after ${worstResume} ms`);
    assert.equal(gw.stats().cameras.online, CAMERAS, 'every camera online again');
    // One keyframe a second per camera: the others keep that rate through the kill (±1 at the edges).
    others.forEach((c, i) => {
      const b = before[i] ?? 0;
      const a = after[i] ?? 0;
      assert.ok(b >= WINDOW_MS / 1000 - 1, `camera ${c} had ${b} frames in the baseline window`);
      // Against the steady rate: a late frame can land in the baseline window and make it one high.
      assert.ok(
        a >= Math.min(b, WINDOW_MS / 1000) - 1,
        `camera ${c} lost frames: ${a} after the kill vs ${b} before`,
      );
    });
    if (kind === 'rtsp')
      hit.forEach((c, i) => {
        const b = hitBefore[i] ?? 0;
        const a = hitAfter[i] ?? 0;
        assert.ok(b >= WINDOW_MS / 1000 - 1, `camera ${c} had ${b} frames in the baseline window`);
        // A shared decoder loses the unit in flight and what waited for it until its restart.
        assert.ok(
          a >= Math.min(b, WINDOW_MS / 1000) - 2,
          `camera ${c}: ${a} frames after the kill vs ${b} before`,
        );
      });
  },
);
