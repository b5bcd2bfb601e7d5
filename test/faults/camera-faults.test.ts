// Fault: misbehaving cameras (stall, disconnect, flap, corrupt, wrong password) in one fleet with
// healthy ones. Each faulty camera gets the status the gateway's classification gives it, and the
// healthy cameras keep producing face events that match the simulator's ground truth.
import { writeFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway, type Gateway } from '../../gateway/index.ts';
import type { FaceEvent } from '../../gateway/tracker.ts';
import type { Fault } from '../../simulator/rtsp/faults.ts';
import { startTestBroker } from '../helpers/broker.ts';
import { collect } from '../helpers/mqtt.ts';
import { captureLogger } from '../helpers/logs.ts';
import { waitFor } from '../helpers/net.ts';
import { testConfig, systemFfmpeg } from '../helpers/city.ts';
import {
  cameraStatusHistory,
  cleanup,
  figure,
  ingestSets,
  latestStatuses,
  secs,
  sleep,
  testEachIngest,
} from './support.ts';

const RUN_MS = 30_000;
const faults: Record<string, Fault> = {
  '000001': { kind: 'stall' },
  '000002': { kind: 'disconnect', everyS: 4 },
  '000003': { kind: 'flap', downS: 4, upS: 8 },
  '000004': { kind: 'corrupt', probability: 0.05 },
  '000005': { kind: 'wrongPassword' },
};
const healthy = ['000006', '000007', '000008'];
const down = new Set(['offline', 'unreachable']);

function frames(gw: Gateway, id: string): number {
  return gw.analysis().cameras[id]?.offered ?? 0;
}

testEachIngest(
  'stalled, disconnecting, flapping, corrupt and wrong-password cameras among healthy ones: right statuses, healthy ones match the truth',
  async (t, kind) => {
    const defer = cleanup(t);
    const broker = await startTestBroker();
    defer('broker', () => broker.stop());
    const logs = captureLogger('info');
    const { log } = logs;
    t.after(() => {
      if (process.env['FAULTS_LOG']) writeFileSync(process.env['FAULTS_LOG'], logs.text());
    });
    const cfg = testConfig([
      `mqtt.url=${broker.url}`,
      'city.cameras=8',
      'gateway.settleS=0.5',
      'gateway.motionThreshold=0',
      ...ingestSets(kind, { counting: true }),
    ]);
    const sim = await createSimulator(cfg, { log, ffmpeg: systemFfmpeg() });
    defer('sim', () => sim.close());
    const sub = await collect(broker.url, ['facegate/cameras/+/status']);
    defer('sub', () => sub.close());
    // The wrong password is there from the start; the others break once everything runs.
    sim.rtsp.setFault('000005', faults['000005']);
    const produced: FaceEvent[] = [];
    const gw = await createGateway(cfg, {
      log,
      ffmpeg: systemFfmpeg(),
      http: false,
      onEvent: (ev) => produced.push(ev),
    });
    defer('gw', () => gw.close());
    const others = Object.keys(faults)
      .filter((id) => id !== '000005')
      .concat(healthy);
    await waitFor(
      () => others.every((id) => latestStatuses(sub).get(id)?.status === 'online'),
      30_000,
      'seven cameras online',
    );

    // When a camera of a shared ffmpeg process stalls, ffmpeg 5 stops reading its other inputs
    // too; the supervisor then dissolves the group. Measure how long the healthy cameras go blind.
    const seen = new Map(
      healthy.map((id) => [id, { count: frames(gw, id), at: Date.now(), gaps: [] as [number, number][] }]),
    );
    const poll = setInterval(() => {
      for (const [id, s] of seen) {
        const n = frames(gw, id);
        if (n === s.count) continue;
        const now = Date.now();
        if (now - s.at > 2000) s.gaps.push([s.at, now]);
        s.count = n;
        s.at = now;
      }
    }, 100);
    defer('poll', () => clearInterval(poll));
    const from = Date.now();
    for (const [id, f] of Object.entries(faults)) if (id !== '000005') sim.rtsp.setFault(id, f);
    await sleep(RUN_MS / 2);
    const mid = new Map(others.map((id) => [id, frames(gw, id)]));
    await sleep(RUN_MS / 2);
    const to = Date.now();
    clearInterval(poll);
    const last = new Map(others.map((id) => [id, frames(gw, id)]));
    const recent = (id: string): number => (last.get(id) ?? 0) - (mid.get(id) ?? 0);

    const history = cameraStatusHistory(sub);
    const after = (id: string): string[] =>
      history.filter((s) => s.camera === id && s.at >= from).map((s) => s.status);
    const final = (id: string): string => latestStatuses(sub).get(id)?.status ?? 'none';
    const flaps = (id: string): number => after(id).filter((s) => down.has(s)).length;

    // Healthy cameras against the ground truth, as in test/e2e.test.ts.
    // Appearances that begin while their camera is blind are not expected on time.
    let expected = 0;
    let matched = 0;
    let blindStarts = 0;
    let blindSeen = 0;
    const missed: string[] = [];
    const gaps = (cam: string): [number, number][] => seen.get(cam)?.gaps ?? [];
    const blindMs = Math.max(0, ...healthy.flatMap((cam) => gaps(cam).map(([a, b]) => b - a)));
    for (const cam of healthy) {
      const starts = produced.filter((e) => e.type === 'start' && e.cameraId === cam);
      for (const iv of sim.fleet.truth(cam, from, to).filter((x) => x.isFace)) {
        if (iv.startMs < from + 2000 || iv.endMs > to - 1000) continue;
        if (gaps(cam).some(([a, b]) => iv.startMs > a - 1000 && iv.startMs < b + 500)) {
          blindStarts++;
          if (starts.some((s) => Math.abs(Date.parse(s.ts) - iv.startMs) < 2500)) blindSeen++;
          continue;
        }
        expected++;
        if (starts.some((s) => Math.abs(Date.parse(s.ts) - iv.startMs) < 2500)) matched++;
        else missed.push(`${cam}@${new Date(iv.startMs).toISOString()}`);
      }
    }
    const falseStarts = produced.filter((e) => {
      if (e.type !== 'start' || !healthy.includes(e.cameraId) || Date.parse(e.ts) < from) return false;
      const ts = Date.parse(e.ts);
      return !sim.fleet
        .truth(e.cameraId, ts - 4000, ts + 1000)
        .some((iv) => iv.isFace && ts >= iv.startMs - 500 && ts <= iv.endMs + 2500);
    });

    figure(
      t,
      `FAULT camera-faults (${kind} ingest): stall ${final('000001')}, disconnect ${flaps('000002')} drops/${recent('000002')} frames in 15 s, flap ${flaps('000003')} downs/${after('000003').filter((s) => s === 'online').length} recoveries, corrupt ${final('000004')} ${recent('000004')} frames in 15 s, wrongPassword ${final('000005')}; healthy ${healthy.length} cameras: ${healthy.map(recent).join('/')} frames in 15 s, blind ${secs(blindMs)} s at most (group dissolved), truth ${expected} faces, matched ${matched}, ${blindStarts} began while blind (${blindSeen} of them still on time), false starts ${falseStarts.length}`,
    );

    // Wrong password: unauthorized, never online.
    assert.equal(final('000005'), 'unauthorized');
    assert.ok(
      !history.some((s) => s.camera === '000005' && s.status === 'online'),
      'the wrong-password camera was never online',
    );
    // Stall: the watchdog takes it down (offline: it was online before; unreachable once retries time out).
    assert.ok(down.has(final('000001')), `stalled camera is ${final('000001')}`);
    assert.equal(recent('000001'), 0, 'no frames from the stalled camera');
    // Disconnects: it reconnects each time and keeps delivering.
    assert.ok(recent('000002') >= 5, `disconnecting camera delivered ${recent('000002')} frames in 15 s`);
    // Flap: down, then back online in an up phase.
    assert.ok(flaps('000003') >= 1, 'the flapping camera was reported down');
    const flapHist = after('000003');
    assert.ok(
      flapHist.findIndex((s) => down.has(s)) < flapHist.lastIndexOf('online'),
      `the flapping camera came back online: ${flapHist.join(' ')}`,
    );
    // Corrupt packets: the decoder conceals them; the camera stays online and delivers.
    assert.equal(final('000004'), 'online');
    assert.ok(recent('000004') >= 10, `corrupt camera delivered ${recent('000004')} frames in 15 s`);
    // Healthy cameras: never reported down, full frame rate, events matching the truth.
    for (const cam of healthy) {
      assert.deepEqual(
        after(cam).filter((s) => s !== 'online'),
        [],
        `healthy camera ${cam} was reported down`,
      );
      assert.ok(recent(cam) >= 14, `healthy camera ${cam} delivered ${recent(cam)} frames in 15 s`);
    }
    // The supervisor restarts them within the stall timeout (10 s by default).
    assert.ok(blindMs <= 10_000, `a healthy camera had no frames for ${blindMs} ms`);
    assert.ok(expected >= 2, `the window must contain appearances on the healthy cameras (got ${expected})`);
    assert.deepEqual(missed, [], `appearances without a start event: ${missed.join(', ')}`);
    assert.deepEqual(
      falseStarts.map((e) => `${e.cameraId}@${e.ts}`),
      [],
      'start events matching no face',
    );
  },
);
