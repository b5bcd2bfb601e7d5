import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { captureLogger } from './helpers/logs.ts';
import { redactUrl } from '../shared/log.ts';
import { closeAll, untilSignal } from '../cli/lifecycle.ts';

test('logs are JSON lines with component children, and secrets never reach them', () => {
  const cap = captureLogger('info');
  const child = cap.log.child({ component: 'rtsp' });
  child.info(
    {
      url: 'rtsp://admin:cam-secret@10.0.0.5/stream',
      password: 'hunter2',
      nested: { password: 'x2', broker: 'mqtt://u:mq-secret@b:1883' },
    },
    'connecting to rtsp://admin:cam-secret@10.0.0.5/',
  );
  child.error({ err: new Error('401 from rtsp://admin:cam-secret@h/x') }, 'failed');
  const text = cap.text();
  for (const s of ['cam-secret', 'hunter2', 'x2', 'mq-secret'])
    assert.ok(!text.includes(s), `${s} leaked: ${text}`);
  const [first, second] = cap.lines;
  assert.equal(first?.['component'], 'rtsp');
  assert.equal(first?.['url'], 'rtsp://admin:***@10.0.0.5/stream');
  assert.equal(first?.msg, 'connecting to rtsp://admin:***@10.0.0.5/');
  assert.match(
    String((second?.['err'] as { message: string } | undefined)?.message),
    /rtsp:\/\/admin:\*\*\*@h\/x/,
  );
  assert.equal(redactUrl('plain text, no url'), 'plain text, no url');
});

test('shutdown closes in order, each bounded by the deadline', async () => {
  const { log } = captureLogger('silent');
  const order: string[] = [];
  const clean = await closeAll(
    [
      { name: 'a', close: async () => void order.push('a') },
      { name: 'hangs', close: () => new Promise<void>(() => order.push('hangs')) },
      { name: 'c', close: () => void order.push('c') },
    ],
    200,
    log,
  );
  assert.equal(clean, false);
  assert.deepEqual(order, ['a', 'hangs']);
});

test('a signal starts the shutdown; a second one exits at once with 130', async () => {
  const { log } = captureLogger('silent');
  const proc = Object.assign(new EventEmitter(), {
    exitCodes: [] as number[],
    exit(code: number) {
      this.exitCodes.push(code);
    },
  });
  let release: () => void = () => undefined;
  const done = untilSignal(() => [{ name: 'slow', close: () => new Promise<void>((r) => (release = r)) }], {
    timeoutMs: 5000,
    log,
    proc: proc as never,
  });
  proc.emit('SIGTERM', 'SIGTERM');
  proc.emit('SIGINT', 'SIGINT');
  assert.deepEqual(proc.exitCodes, [130]);
  release();
  assert.equal(await done, 0);
});
