// The tracker: pure, so time is passed in and sequences are checked exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker, type FaceEvent, type TrackerOptions } from '../gateway/tracker.ts';
import type { Box, Detection } from '../gateway/detect/ultraface.ts';

const T0 = Date.parse('2025-01-01T10:00:00Z');
const F = { width: 320, height: 240 };

function mk(over: Partial<TrackerOptions> = {}) {
  let n = 0;
  return createTracker({ gatewayId: 'gw1', newId: () => `ev${++n}`, ...over });
}
const det = (box: Box, score = 0.9): Detection => ({ box, score });
const at = (s: number) => ({ captureTs: T0 + s * 1000, ...F });
const brief = (evs: FaceEvent[]) => evs.map((e) => `${e.type}:${e.eventId}:${e.trackId}`);

test('one appearance: start on the first hit, end after endAfterS unseen, same ids', () => {
  const tr = mk({ endAfterS: 2.5 });
  const box: Box = [0.4, 0.3, 0.1, 0.13];
  const start = tr.observe('c1', at(0), [det(box, 0.95)]);
  assert.deepEqual(start, [
    {
      v: 1,
      type: 'start',
      eventId: 'ev1',
      trackId: 1,
      cameraId: 'c1',
      gatewayId: 'gw1',
      ts: '2025-01-01T10:00:00.000Z',
      box,
      score: 0.95,
      frame: F,
    },
  ]);
  assert.deepEqual(tr.observe('c1', at(1), [det([0.41, 0.3, 0.1, 0.13], 0.97)]), []);
  assert.deepEqual(tr.observe('c1', at(2), [det([0.42, 0.31, 0.1, 0.13], 0.9)]), []);
  assert.deepEqual(tr.observe('c1', at(3), []), []); // unseen 1 s
  assert.equal(tr.hasActive('c1'), true);
  assert.deepEqual(tr.observe('c1', at(4), []), []); // unseen 2 s
  const end = tr.observe('c1', at(5), []); // unseen 3 s >= 2.5
  assert.equal(end.length, 1);
  assert.deepEqual(
    { ...end[0], box: undefined },
    {
      v: 1,
      type: 'end',
      eventId: 'ev1',
      trackId: 1,
      cameraId: 'c1',
      gatewayId: 'gw1',
      ts: '2025-01-01T10:00:02.000Z',
      box: undefined,
      score: 0.97,
      frame: F,
      startedTs: '2025-01-01T10:00:00.000Z',
      durationS: 2,
      hits: 3,
      endReason: 'unseen',
    },
  );
  assert.equal(tr.hasActive('c1'), false);
  // The next appearance is a new event with the next track id.
  assert.deepEqual(brief(tr.observe('c1', at(10), [det(box)])), ['start:ev2:2']);
});

test('confirmHits: a single false positive never starts; two hits do, once', () => {
  const tr = mk({ confirmHits: 2, endAfterS: 2 });
  assert.deepEqual(tr.observe('c1', at(0), [det([0.1, 0.1, 0.1, 0.1])]), []);
  assert.deepEqual(tr.observe('c1', at(3), []), []); // tentative track dropped silently
  assert.equal(tr.hasActive('c1'), false);
  assert.deepEqual(tr.observe('c1', at(10), [det([0.5, 0.5, 0.1, 0.1])]), []);
  assert.equal(tr.hasActive('c1'), true);
  assert.deepEqual(brief(tr.observe('c1', at(11), [det([0.5, 0.5, 0.1, 0.1])])), ['start:ev2:2']);
  assert.deepEqual(tr.observe('c1', at(12), [det([0.5, 0.5, 0.1, 0.1])]), []);
  assert.equal(tr.stats().started, 1);
});

test('rate-limited updates', () => {
  const tr = mk({ updateEveryS: 2 });
  const types: string[] = [];
  for (let s = 0; s <= 6; s++)
    types.push(...tr.observe('c1', at(s), [det([0.3, 0.3, 0.1, 0.1])]).map((e) => `${s}${e.type}`));
  assert.deepEqual(types, ['0start', '2update', '4update', '6update']);
  const none = mk({ updateEveryS: 0 });
  for (let s = 0; s <= 6; s++) none.observe('c1', at(s), [det([0.3, 0.3, 0.1, 0.1])]);
  assert.equal(none.stats().started, 1);
});

test('two faces: two tracks, matched by position whatever the detection order', () => {
  const tr = mk();
  const left: Box = [0.1, 0.3, 0.1, 0.13];
  const right: Box = [0.7, 0.3, 0.1, 0.13];
  assert.deepEqual(brief(tr.observe('c1', at(0), [det(left), det(right)])), ['start:ev1:1', 'start:ev2:2']);
  // Swapped order, both moved a little: no new start.
  assert.deepEqual(tr.observe('c1', at(1), [det([0.71, 0.3, 0.1, 0.13]), det([0.11, 0.3, 0.1, 0.13])]), []);
  // The right one leaves; its end carries its own id.
  tr.observe('c1', at(2), [det([0.12, 0.3, 0.1, 0.13])]);
  tr.observe('c1', at(3), [det([0.13, 0.3, 0.1, 0.13])]);
  assert.deepEqual(brief(tr.observe('c1', at(4), [det([0.14, 0.3, 0.1, 0.13])])), ['end:ev2:2']);
  assert.equal(tr.stats().tracks, 1);
});

test('a walking face that jumps its own width between keyframes stays one appearance', () => {
  const tr = mk();
  let starts = 0;
  for (let s = 0; s < 6; s++) {
    // Moves 0.1 (a full face width, IoU 0) every second.
    starts += tr
      .observe('c1', at(s), [det([0.05 + s * 0.1, 0.4, 0.1, 0.13])])
      .filter((e) => e.type === 'start').length;
  }
  assert.equal(starts, 1);
  // But a face far away is another person.
  assert.deepEqual(
    brief(tr.observe('c1', at(6), [det([0.55, 0.4, 0.1, 0.13]), det([0.05, 0.05, 0.1, 0.13])])),
    ['start:ev2:2'],
  );
});

test('cameras are independent; track ids count per camera', () => {
  const tr = mk();
  assert.deepEqual(brief(tr.observe('a', at(0), [det([0.3, 0.3, 0.1, 0.1])])), ['start:ev1:1']);
  assert.deepEqual(brief(tr.observe('b', at(0), [det([0.3, 0.3, 0.1, 0.1])])), ['start:ev2:1']);
  assert.deepEqual(
    tr.observe('a', at(10), []).map((e) => e.cameraId),
    ['a'],
  );
  assert.equal(tr.hasActive('b'), true);
});

test('the wall-clock sweep ends tracks of a camera that stopped delivering frames', () => {
  const tr = mk({ endAfterS: 2.5, sweepAfterS: 10 });
  tr.observe('off', at(0), [det([0.3, 0.3, 0.1, 0.1])]);
  tr.observe('off', at(1), []);
  tr.observe('live', at(0), [det([0.3, 0.3, 0.1, 0.1])]);
  tr.observe('live', at(2), [det([0.3, 0.3, 0.1, 0.1])]);
  assert.deepEqual(tr.sweep(T0 + 10_500), []); // 'off' last observed 9.5 s ago
  const ended = tr.sweep(T0 + 11_000);
  assert.deepEqual(
    ended.map((e) => [e.cameraId, e.type, e.endReason, e.ts]),
    [['off', 'end', 'offline', '2025-01-01T10:00:00.000Z']],
  );
  assert.equal(tr.hasActive('live'), true);
  assert.deepEqual(tr.sweep(T0 + 11_000), []); // ended once
  // removeCamera and close end what is left, once.
  assert.deepEqual(
    tr.removeCamera('live').map((e) => e.endReason),
    ['removed'],
  );
  tr.observe('x', at(20), [det([0.3, 0.3, 0.1, 0.1])]);
  assert.deepEqual(
    tr.close().map((e) => `${e.cameraId}:${e.endReason}`),
    ['x:closed'],
  );
  assert.deepEqual(tr.close(), []);
  assert.deepEqual(tr.stats(), { cameras: 0, tracks: 0, ignored: 0, started: 3, ended: 3 });
});

test('default ids are UUIDs, unique per appearance, shared by its events', () => {
  const tr = createTracker({ gatewayId: 'gw', updateEveryS: 1 });
  const evs = [
    ...tr.observe('c', at(0), [det([0.3, 0.3, 0.1, 0.1])]),
    ...tr.observe('c', at(1), [det([0.3, 0.3, 0.1, 0.1])]),
    ...tr.observe('c', at(9), [det([0.7, 0.7, 0.1, 0.1])]),
  ];
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'update', 'end', 'start'],
  );
  assert.match(evs[0]?.eventId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(evs[1]?.eventId, evs[0]?.eventId);
  assert.equal(evs[2]?.eventId, evs[0]?.eventId);
  assert.notEqual(evs[3]?.eventId, evs[0]?.eventId);
});

test('a bounded number of tracks per camera', () => {
  const tr = mk({ maxTracksPerCamera: 2 });
  const evs = tr.observe('c', at(0), [
    det([0.1, 0.1, 0.05, 0.05]),
    det([0.4, 0.4, 0.05, 0.05]),
    det([0.8, 0.8, 0.05, 0.05]),
  ]);
  assert.equal(evs.length, 2);
  assert.equal(tr.stats().ignored, 1);
});

test('a lone face that jumps across the frame between keyframes stays one event; after a longer gap it is a new one', () => {
  const tr = createTracker({ gatewayId: 'gw' });
  const evs = [
    ...tr.observe('c', at(0), [det([0.0, 0.3, 0.1, 0.15])]),
    ...tr.observe('c', at(1), [det([0.45, 0.3, 0.12, 0.18])]),
    ...tr.observe('c', at(2), [det([0.5, 0.3, 0.12, 0.18])]),
    ...tr.observe('c', at(4), []),
    ...tr.observe('c', at(5), [det([0.0, 0.3, 0.1, 0.15])]),
  ];
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'end', 'start'],
  );
  assert.equal(evs[1]?.eventId, evs[0]?.eventId);
});

test('the next person through the same door is a new event, even seconds later at the same place', () => {
  const tr = createTracker({ gatewayId: 'gw', endAfterS: 2.5 });
  const evs = [
    ...tr.observe('c', at(0), [det([0.0, 0.3, 0.1, 0.2])]),
    ...tr.observe('c', at(3), [det([0.0, 0.3, 0.1, 0.2])]), // a stale track is over before matching
  ];
  assert.deepEqual(
    evs.map((e) => e.type),
    ['start', 'end', 'start'],
  );
  assert.notEqual(evs[2]?.eventId, evs[0]?.eventId);
});

test('a face seen walking out across the edge ends at the next frame without it', () => {
  const tr = createTracker({ gatewayId: 'gw', endAfterS: 2.5 });
  const evs = [
    ...tr.observe('c', at(0), [det([0.3, 0.3, 0.1, 0.2])]),
    ...tr.observe('c', at(1), [det([0.0, 0.3, 0.1, 0.2])]),
    ...tr.observe('c', at(2), []),
  ];
  assert.deepEqual(
    evs.map((e) => [e.type, e.endReason]),
    [
      ['start', undefined],
      ['end', 'left'],
    ],
  );
  // Touching the edge but walking in is not leaving.
  const tr2 = createTracker({ gatewayId: 'gw', endAfterS: 2.5 });
  tr2.observe('c', at(0), [det([0.95, 0.3, 0.05, 0.2])]);
  tr2.observe('c', at(1), [det([0.9, 0.3, 0.1, 0.2])]);
  assert.deepEqual(tr2.observe('c', at(2), []), []);
});

test('a camera analysed less often than endAfterS learns its pace and keeps a face across a missed frame', () => {
  const tr = createTracker({ gatewayId: 'gw', endAfterS: 2.5 });
  const box: Box = [0.4, 0.3, 0.1, 0.2];
  const seen = (s: number) => tr.observe('c', at(s), [det(box)]);
  const missed = (s: number) => tr.observe('c', at(s), []);
  // Overloaded: one analysed frame every 4 s. The first gap is longer than endAfterS and unlearnt.
  const first = [...seen(0), ...seen(4), ...seen(8), ...seen(12), ...seen(16)];
  assert.deepEqual(
    first.map((e) => e.type),
    ['start', 'end', 'start'],
  );
  // Learnt: one missed frame (a gap of two intervals) no longer splits the appearance...
  assert.deepEqual([...missed(20), ...seen(24)], []);
  // ...two missed frames end it.
  const last = [...missed(28), ...missed(32), ...missed(36)];
  assert.deepEqual(
    last.map((e) => [e.type, e.ts]),
    [['end', new Date(T0 + 24_000).toISOString()]],
  );
});
