import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attributeFailures, classifyLine, failureStatus } from '../gateway/ingest/status.ts';
import { backoffDelay } from '../gateway/ingest/backoff.ts';

test('status: ffmpeg stderr lines are pinned on the input whose URL prefixes them', () => {
  const urls = [
    'rtsp://127.0.0.1:9/cam/a',
    'rtsp://u:wrong@127.0.0.1:8554/cam/b',
    'rtsp://127.0.0.1:8554/cam/c',
  ];
  const lines = [
    '[tcp @ 0x55] Connection to tcp://127.0.0.1:9?timeout=5000000 failed: Connection refused',
    'rtsp://127.0.0.1:9/cam/a: Connection refused',
    '[rtsp @ 0x56] method DESCRIBE failed: 401 Unauthorized',
    'rtsp://u:wrong@127.0.0.1:8554/cam/b: Server returned 401 Unauthorized (authorization failed)',
  ];
  const f = attributeFailures(lines, urls);
  assert.deepEqual([...f.keys()].sort(), [0, 1]);
  assert.equal(f.get(0)?.kind, 'unreachable');
  assert.equal(f.get(1)?.kind, 'unauthorized');
});

test('status: classification and the status it reports', () => {
  assert.equal(classifyLine('x: Server returned 404 Not Found'), 'unreachable');
  assert.equal(classifyLine('x: Invalid data found when processing input'), 'unreachable');
  assert.equal(classifyLine('x: Connection timed out'), 'unreachable');
  assert.equal(classifyLine('x: Server returned 5XX Server Error reply'), 'other');
  assert.equal(failureStatus('other', true), 'offline');
  assert.equal(failureStatus('other', false), 'unreachable');
  assert.equal(failureStatus('unauthorized', true), 'unauthorized');
});

test('backoff: full jitter under an exponential cap, with a floor for wrong credentials', () => {
  const o = { baseMs: 1000, maxMs: 30_000 };
  assert.equal(
    backoffDelay(0, o, 0, () => 0.999999),
    1000,
  );
  assert.equal(
    backoffDelay(3, o, 0, () => 0.5),
    4000,
  );
  assert.equal(
    backoffDelay(50, o, 0, () => 1),
    30_000,
  );
  assert.equal(
    backoffDelay(0, o, 60_000, () => 0),
    60_000,
  );
});
