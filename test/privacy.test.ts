// Privacy: mask rasterisation and blanking, suspend schedules in time zones, the command parser,
// the controller's audit records, and malformed masks refused by the configuration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadConfig } from '../config/load.ts';
import { maskSecrets, toYaml } from '../config/print.ts';
import { blank, createMasks, rasterise } from '../gateway/privacy/mask.ts';
import { localTime, windowActive } from '../gateway/privacy/schedule.ts';
import { createPrivacyControl, parsePrivacyCommand, type StateRecord } from '../gateway/privacy/suspend.ts';
import { parseCatalog } from '../gateway/catalog.ts';
import { captureLogger } from './helpers/logs.ts';
import type { SuspendRule } from '../config/privacy.ts';

test('masks: a rectangle covers exactly its pixels; a triangle about half; blanking zeroes only them', () => {
  const left = rasterise(
    [
      [
        [0, 0],
        [0.5, 0],
        [0.5, 1],
        [0, 1],
      ],
    ],
    320,
    240,
  );
  assert.equal(left.pixels, 160 * 240);
  // One run per row: the left half of each row.
  assert.equal(left.runs.length, 2 * 240);
  const tri = rasterise(
    [
      [
        [0, 0],
        [1, 0],
        [0, 1],
      ],
    ],
    320,
    240,
  );
  assert.ok(Math.abs(tri.pixels - 320 * 240 * 0.5) < 320, `${tri.pixels}`);
  // The whole frame is one run.
  assert.equal(
    rasterise(
      [
        [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
      ],
      320,
      240,
    ).runs.length,
    2,
  );
  const rgb = Buffer.alloc(320 * 240 * 3, 200);
  blank(rgb, left);
  for (const [x, y] of [
    [0, 0],
    [159, 120],
    [159, 239],
  ])
    assert.equal(rgb[(y! * 320 + x!) * 3], 0);
  for (const [x, y] of [
    [160, 0],
    [319, 239],
    [200, 100],
  ])
    assert.equal(rgb[(y! * 320 + x!) * 3 + 2], 200);
});

test('masks: blanked pixels are exactly those whose centre is inside (random polygons, even-odd)', () => {
  const pt = fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }));
  fc.assert(
    fc.property(fc.array(pt, { minLength: 3, maxLength: 8 }), (poly) => {
      const w = 40;
      const h = 30;
      const rgb = Buffer.alloc(w * h * 3, 255);
      blank(rgb, rasterise([poly as [number, number][]], w, h));
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          // Point in polygon (even-odd) at the pixel centre, by ray casting.
          const cx = (x + 0.5) / w;
          const cy = (y + 0.5) / h;
          let inside = false;
          for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
            const [xi, yi] = poly[i]!;
            const [xj, yj] = poly[j]!;
            if (yi > cy !== yj > cy && cx < ((xj - xi) * (cy - yi)) / (yj - yi) + xi) inside = !inside;
          }
          const onEdge = poly.some(([, py]) => Math.abs(py * h - (y + 0.5)) < 1e-6);
          if (!onEdge) assert.equal(rgb[(y * w + x) * 3] === 0, inside, `pixel ${x},${y}`);
        }
    }),
    { numRuns: 300 },
  );
});

test('masks: config and catalog polygons add up; blanking a 320x240 frame is cheap', (t) => {
  const m = createMasks();
  m.set('c1', 'config', [
    [
      [0, 0],
      [0.25, 0],
      [0.25, 1],
      [0, 1],
    ],
  ]);
  m.set('c1', 'catalog', [
    [
      [0.75, 0],
      [1, 0],
      [1, 1],
      [0.75, 1],
    ],
  ]);
  const rgb = Buffer.alloc(320 * 240 * 3, 9);
  assert.equal(m.apply('c1', rgb, 320, 240), true);
  assert.equal(rgb.filter((b) => b === 0).length, 2 * 80 * 240 * 3);
  assert.equal(m.apply('c2', rgb, 320, 240), false);
  m.set('c1', 'catalog', []);
  assert.deepEqual(m.polygons('c1').length, 1);
  const n = 2000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) m.apply('c1', rgb, 320, 240);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  t.diagnostic(`blanking a quarter of a 320x240 frame: ${us.toFixed(1)} µs`);
  assert.ok(us < 1000, `${us} µs per frame`);
});

test('a malformed mask polygon is refused with one line (exit 2)', () => {
  const cases: [string, RegExp][] = [
    ['[{"camera":"c1","polygons":[[[0,0],[1,0]]]}]', /a polygon needs at least 3 points$/],
    ['[{"camera":"c1","polygons":[[[0,0],[1.5,0],[1,1]]]}]', /Too big: expected number to be <=1$/],
    ['[{"camera":"c1","polygons":[[[0,0],[0.5,0.5],[1,1]]]}]', /a polygon must enclose an area$/],
    ['[{"camera":"c1","polygons":[[[0,0],["a",0],[1,1]]]}]', /expected number, received string$/],
  ];
  for (const [value, re] of cases)
    assert.throws(
      () => loadConfig({ sets: [`privacy.masks=${value}`] }),
      (err: Error & { exitCode?: number }) => {
        assert.match(err.message, /^config: privacy\.masks\.0\.polygons\.0/);
        assert.match(err.message, re);
        assert.ok(!err.message.includes('\n'));
        assert.equal(err.exitCode, 2);
        return true;
      },
    );
  assert.throws(() => loadConfig({ sets: ['privacy.suspend=[{"timeZone":"Mars/Olympus"}]'] }), {
    message:
      'config: privacy.suspend.0.timeZone: "Mars/Olympus" (from --set privacy.suspend) is not allowed: an IANA time zone such as Europe/Berlin',
  });
});

test('the catalog carries optional masks; a bad one refuses the whole catalog', () => {
  const ok = parseCatalog(
    Buffer.from(
      JSON.stringify({
        v: 1,
        cameras: [
          {
            id: 'a',
            url: 'rtsp://h/a',
            district: 'arbat',
            masks: [
              [
                [0, 0],
                [1, 0],
                [1, 1],
              ],
            ],
          },
          { id: 'b', url: 'rtsp://h/b' },
        ],
      }),
    ),
    { username: '', password: '' },
  );
  assert.ok(ok.ok);
  assert.equal(ok.masks.get('a')?.length, 1);
  assert.equal(ok.masks.has('b'), false);
  assert.equal(ok.districts.get('a'), 'arbat');
  const bad = parseCatalog(
    Buffer.from(
      JSON.stringify({
        v: 1,
        cameras: [
          {
            id: 'a',
            url: 'rtsp://h/a',
            masks: [
              [
                [0, 0],
                [1, 0],
              ],
            ],
          },
        ],
      }),
    ),
    { username: '', password: '' },
  );
  assert.equal(bad.ok, false);
});

test('schedules: local time from Intl, windows past midnight, daylight saving time', () => {
  // 2026-03-29 is the spring-forward Sunday in Berlin: 01:30 UTC is 03:30 CEST.
  assert.deepEqual(localTime(Date.parse('2026-03-29T01:30:00Z'), 'Europe/Berlin'), {
    day: 'sun',
    minute: 210,
  });
  assert.deepEqual(localTime(Date.parse('2026-03-28T23:30:00Z'), 'Europe/Berlin'), {
    day: 'sun',
    minute: 30,
  });
  assert.deepEqual(localTime(Date.parse('2026-12-02T21:00:00Z'), 'Asia/Kolkata'), {
    day: 'thu',
    minute: 150,
  });
  const night = { days: ['fri' as const], from: '22:00', to: '06:00', timeZone: 'Europe/Moscow' };
  // Friday 2026-12-04 22:30 Moscow (UTC+3) is 19:30 UTC; Saturday 05:59 is 02:59 UTC.
  assert.equal(windowActive(night, Date.parse('2026-12-04T19:30:00Z')), true);
  assert.equal(windowActive(night, Date.parse('2026-12-05T02:59:00Z')), true);
  assert.equal(windowActive(night, Date.parse('2026-12-05T03:00:00Z')), false);
  assert.equal(windowActive(night, Date.parse('2026-12-04T18:59:00Z')), false);
  // Thursday night is not Friday's window.
  assert.equal(windowActive(night, Date.parse('2026-12-04T02:00:00Z')), false);
  const allDay = { days: ['sat' as const, 'sun' as const], from: '00:00', to: '24:00', timeZone: 'UTC' };
  assert.equal(windowActive(allDay, Date.parse('2026-12-05T12:00:00Z')), true);
  assert.equal(windowActive(allDay, Date.parse('2026-12-04T23:59:00Z')), false);
});

test('privacy commands: one target, a state, the sender from the MQTT 5 user property or the payload', () => {
  const p = (o: unknown, props?: Record<string, string>) =>
    parsePrivacyCommand(Buffer.from(JSON.stringify(o)), props);
  const a = p(
    { camera: '000001', state: 'suspended', reason: 'tenant meeting', clientId: 'payload-id' },
    { clientId: 'prop-id' },
  );
  assert.ok(a.ok && a.cmd.clientId === 'prop-id');
  const b = p({ district: 'arbat', state: 'active', clientId: 'payload-id' });
  assert.ok(b.ok && b.cmd.clientId === 'payload-id');
  const c = p({ all: true, state: 'schedule' });
  assert.ok(c.ok && c.cmd.clientId === 'unknown');
  for (const bad of [
    { state: 'suspended' },
    { camera: 'a', all: true, state: 'active' },
    { camera: 'a/b', state: 'active' },
    { camera: 'a', state: 'off' },
    { camera: 'a', state: 'active', extra: 1 },
  ])
    assert.equal(p(bad).ok, false, JSON.stringify(bad));
  assert.equal(parsePrivacyCommand(Buffer.from('{nope')).ok, false);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => void parsePrivacyCommand(Buffer.from(bytes))),
  );
  fc.assert(fc.property(fc.jsonValue(), (v) => void parsePrivacyCommand(Buffer.from(JSON.stringify(v)))));
});

test('privacy control: schedule and commands, latest command wins, records only on change', () => {
  const cap = captureLogger('info');
  const log = cap.log;
  let t = Date.parse('2026-12-05T12:00:00Z'); // a Saturday
  const records: StateRecord[] = [];
  const changes: string[] = [];
  const rules: SuspendRule[] = [
    {
      cameras: [],
      districts: ['arbat'],
      days: ['sat'],
      from: '10:00',
      to: '14:00',
      timeZone: 'UTC',
      reason: 'market day',
    },
  ];
  const c = createPrivacyControl(
    { rules, gatewayId: 'gw-1' },
    {
      log,
      now: () => t,
      publish: (_id, r) => records.push(r),
      onChange: (id, s) => changes.push(`${id}:${s}`),
    },
  );
  c.setCameras([
    { id: 'a', district: 'arbat' },
    { id: 'b', district: 'center' },
  ]);
  assert.deepEqual(changes, ['a:true']);
  assert.equal(records[0]?.by, 'schedule');
  assert.equal(records[0]?.reason, 'market day');
  assert.equal(c.suspended('a'), true);
  assert.equal(c.suspended('b'), false);
  // A command for all, then one for camera a: the later one wins for a.
  assert.equal(
    c.command(Buffer.from('{"all":true,"state":"suspended","reason":"drill"}'), { clientId: 'op-1' }),
    undefined,
  );
  assert.deepEqual(changes, ['a:true', 'b:true']);
  assert.deepEqual(records.at(-1), {
    v: 1,
    camera: 'b',
    state: 'suspended',
    by: 'command',
    pinned: true,
    clientId: 'op-1',
    reason: 'drill',
    since: new Date(t).toISOString(),
    gatewayId: 'gw-1',
  });
  t += 1000;
  c.command(Buffer.from('{"camera":"a","state":"active","clientId":"op-2"}'));
  assert.equal(c.suspended('a'), false);
  assert.equal(records.at(-1)?.clientId, 'op-2');
  // Back to the schedule for all: b resumes (its district has no window), a follows the market.
  t += 1000;
  c.command(Buffer.from('{"all":true,"state":"schedule"}'), { clientId: 'op-3' });
  assert.equal(c.suspended('b'), false);
  assert.equal(c.suspended('a'), true);
  assert.equal(records.at(-1)?.by, 'command');
  const n = records.length;
  c.tick();
  assert.equal(records.length, n, 'no record without a change');
  t = Date.parse('2026-12-05T14:00:00Z');
  c.tick();
  assert.equal(c.suspended('a'), false);
  assert.equal(records.at(-1)?.by, 'schedule');
  assert.match(c.command(Buffer.from('{"state":"active"}')) ?? '', /exactly one of camera, district or all/);
  assert.ok(cap.lines.some((l) => l.msg === 'detection suspended' && l.camera === 'a'));
});

test('privacy control: a retained record made by a command is taken over by a new owner', () => {
  const { log } = captureLogger('silent');
  const records: StateRecord[] = [];
  const c = createPrivacyControl(
    { rules: [], gatewayId: 'gw-2' },
    { log, publish: (_i, r) => records.push(r), onChange: () => undefined },
  );
  c.restore(
    'a',
    Buffer.from(
      JSON.stringify({
        v: 1,
        camera: 'a',
        state: 'suspended',
        since: '2026-12-01T00:00:00.000Z',
        by: 'command',
        pinned: true,
        clientId: 'op',
        reason: 'x',
        gatewayId: 'gw-1',
      }),
    ),
  );
  c.setCameras([{ id: 'a' }]);
  assert.equal(c.suspended('a'), true);
  assert.equal(records.length, 0, 'the state did not change, so nothing is republished');
  c.restore('a', Buffer.from('garbage'));
  assert.equal(c.suspended('a'), true);
});

test('console secrets are masked in config print and in errors', () => {
  const c = loadConfig({
    sets: [
      'console.auth.token=averylongsharedsecret',
      'console.auth.user=alice',
      'console.auth.passwordHash=scrypt$16384$8$1$c2FsdA==$aGFzaA==',
    ],
  });
  const text = toYaml(maskSecrets(c));
  assert.ok(!text.includes('averylongsharedsecret') && !text.includes('aGFzaA=='), text);
  assert.equal(c.console.auth.token, 'averylongsharedsecret');
  assert.throws(
    () => loadConfig({ sets: ['console.auth.token=short'] }),
    (err: Error) => !err.message.includes('short'),
  );
  assert.throws(() => loadConfig({ sets: ['console.auth.user=alice'] }), {
    message:
      'config: console.auth: (a mapping) (from file) is not allowed: auth.user and auth.passwordHash go together',
  });
});

test('privacy control: a record that follows the schedule does not pin a new owner; restore takes any bytes', () => {
  const { log } = captureLogger('silent');
  const records: StateRecord[] = [];
  let t = Date.parse('2026-12-05T12:00:00Z');
  const rules: SuspendRule[] = [
    { cameras: ['a'], districts: [], days: ['sat'], from: '10:00', to: '14:00', timeZone: 'UTC', reason: '' },
  ];
  const c = createPrivacyControl(
    { rules, gatewayId: 'gw-3' },
    { log, now: () => t, publish: (_i, r) => records.push(r), onChange: () => undefined },
  );
  const rec = {
    v: 1,
    camera: 'a',
    state: 'suspended',
    since: '2026-12-05T11:00:00.000Z',
    by: 'command',
    pinned: false,
    clientId: 'op',
    gatewayId: 'gw-1',
  };
  c.restore('a', Buffer.from(JSON.stringify(rec)));
  c.setCameras([{ id: 'a' }]);
  assert.equal(c.suspended('a'), true);
  t = Date.parse('2026-12-05T14:00:00Z');
  c.tick();
  assert.equal(c.suspended('a'), false, 'the schedule decides once its window ends');
  assert.equal(records.at(-1)?.by, 'schedule');
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
      ),
      (buf) => {
        c.restore('a', buf);
      },
    ),
  );
});
