import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOutbox } from '../gateway/publish/outbox.ts';
import { captureLogger } from './helpers/logs.ts';
import { waitFor } from './helpers/net.ts';

interface Deferred {
  item: number;
  resolve(): void;
  reject(err: unknown): void;
}

function harness(max: number, window: number, warnEveryMs = 10_000) {
  const cap = captureLogger('debug');
  const calls: Deferred[] = [];
  let up = false;
  const box = createOutbox<number>({
    max,
    window,
    warnEveryMs,
    retryMs: 20,
    log: cap.log,
    canSend: () => up,
    send: (item) => new Promise<void>((resolve, reject) => calls.push({ item, resolve, reject })),
  });
  return {
    box,
    calls,
    cap,
    setUp: (v: boolean) => (up = v),
    warns: () => cap.lines.filter((l) => l.level === 40),
  };
}

test('outbox: full drops the oldest waiting, counts it, and warns once per period with the count', async () => {
  const h = harness(3, 2, 200);
  for (let i = 1; i <= 7; i++) h.box.push(i);
  const s = h.box.stats();
  assert.equal(s.pending, 3);
  assert.equal(s.dropped, 4);
  assert.equal(s.droppedBy.overflow, 4);
  // The first drop is reported at once; the next three wait for the period to end.
  assert.equal(h.warns().length, 1);
  assert.equal(h.warns()[0]?.dropped, 1);
  assert.match(String(h.warns()[0]?.msg), /outbox full/);
  await waitFor(() => h.warns().length === 2, 2000, 'the second warning');
  assert.equal(h.warns()[1]?.dropped, 3);
  assert.equal(h.warns()[1]?.droppedTotal, 4);
  // The newest survive, and leave in order, at most `window` at a time.
  h.setUp(true);
  h.box.pump();
  assert.deepEqual(
    h.calls.map((c) => c.item),
    [5, 6],
  );
  h.calls[0]?.resolve();
  await waitFor(() => h.calls.length === 3, 1000, 'the third send');
  assert.equal(h.calls[2]?.item, 7);
  h.calls[1]?.resolve();
  h.calls[2]?.resolve();
  assert.equal(await h.box.drain(1000), true);
  assert.equal(h.box.stats().published, 3);
  assert.equal(h.box.close(), 0);
});

test('outbox: a send that fails with a closed connection is retried in order; a reason code drops it', async () => {
  const h = harness(10, 3);
  h.setUp(true);
  for (let i = 1; i <= 4; i++) h.box.push(i);
  assert.deepEqual(
    h.calls.map((c) => c.item),
    [1, 2, 3],
  );
  assert.ok(h.box.stats().oldestPendingAgeMs >= 0);
  h.setUp(false);
  h.calls[1]?.reject(new Error('Connection closed'));
  h.calls[0]?.reject(new Error('Connection closed'));
  h.calls[2]?.reject(Object.assign(new Error('Publish error: Not authorized'), { code: 135 }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(h.box.stats().droppedBy.rejected, 1);
  assert.equal(h.box.stats().waiting, 3);
  h.calls.length = 0;
  h.setUp(true);
  h.box.pump();
  assert.deepEqual(
    h.calls.map((c) => c.item),
    [1, 2, 4],
  );
  for (const c of h.calls) c.resolve();
  assert.equal(await h.box.drain(1000), true);
  assert.equal(h.box.stats().published, 3);
});

test('outbox: close abandons what is pending, counts it and says so', () => {
  const h = harness(5, 2);
  for (let i = 1; i <= 3; i++) h.box.push(i);
  assert.equal(h.box.close(), 3);
  assert.equal(h.box.stats().droppedBy.shutdown, 3);
  assert.ok(h.warns().some((l) => l.msg === 'events not delivered before shutdown' && l.dropped === 3));
  h.box.push(9);
  assert.equal(h.box.stats().droppedBy.shutdown, 4);
});
