// Console access and privacy in headless Chromium against a real broker and simulator: the login
// page, a wrong password, no live view without a session, the rate limit, masks blanked in the live
// picture and outlined over it, and an audit record per live view start and stop. Plus the refusal
// to serve a non-loopback address without a login, and the hash-password helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createSimulator } from '../simulator/index.ts';
import { createConsole } from '../console/server.ts';
import fc from 'fast-check';
import { createConsoleAuth, hashPassword, verifyPassword } from '../console/auth.ts';
import { connectMqtt } from '../shared/mqtt.ts';
import { startTestBroker } from './helpers/broker.ts';
import { collect } from './helpers/mqtt.ts';
import { captureLogger } from './helpers/logs.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';

const root = new URL('..', import.meta.url).pathname;
const PASSWORD = 'correct horse battery';

test('hash-password makes a scrypt hash that verifies; the console refuses 0.0.0.0 without a login', async () => {
  const r = spawnSync(process.execPath, [join(root, 'bin/facegate.js'), 'console', 'hash-password'], {
    input: `${PASSWORD}\n`,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const hash = r.stdout.trim();
  assert.match(hash, /^scrypt\$16384\$8\$1\$/);
  assert.ok(verifyPassword(PASSWORD, hash));
  assert.ok(!verifyPassword(`${PASSWORD}x`, hash));
  const { log } = captureLogger('silent');
  const cfg = testConfig(['mqtt.url=mqtt://127.0.0.1:1', 'console.host=0.0.0.0']);
  await assert.rejects(
    createConsole(cfg, { log, ffmpeg: systemFfmpeg() }),
    (err: Error & { exitCode?: number }) => {
      assert.equal(
        err.message,
        'console: refusing to serve 0.0.0.0 without a login: set console.auth (user and passwordHash, or token) or console.allowAnonymous=true',
      );
      assert.equal(err.exitCode, 2);
      return true;
    },
  );
  const c = spawnSync(
    process.execPath,
    [join(root, 'bin/facegate.js'), 'console', '--host', '0.0.0.0', '--set', 'log.level=silent'],
    {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '', MQTT_URL: 'mqtt://127.0.0.1:1' },
    },
  );
  assert.equal(c.status, 2);
  assert.equal(c.stderr.split('\n').filter(Boolean).length, 1, c.stderr);
});

test('console in Chromium: login, wrong password, no live view without a session, masks drawn, live view audit', {
  timeout: 120_000,
}, async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const ffmpeg = systemFfmpeg();
  const mask = [
    [
      [0, 0],
      [0.5, 0],
      [0.5, 1],
      [0, 1],
    ],
  ];
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=2',
    'console.auth.user=alice',
    `console.auth.passwordHash=${hashPassword(PASSWORD)}`,
    `privacy.masks=${JSON.stringify([{ camera: '000001', polygons: mask }])}`,
  ]);
  const sim = await createSimulator(cfg, { log, ffmpeg });
  t.after(() => sim.close());
  const con = await createConsole(cfg, { log, ffmpeg, port: 0, liveGraceMs: 300 });
  t.after(() => con.close());
  const audit = await collect(broker.url, ['facegate/audit/liveview']);
  t.after(() => audit.close());

  // Without a session: the page redirects to the login, the API and the live socket say 401.
  const api = await fetch(new URL('/api/state', con.url));
  assert.equal(api.status, 401);
  const page0 = await fetch(con.url, { redirect: 'manual' });
  assert.equal(page0.status, 303);
  assert.equal(page0.headers.get('location'), '/login');
  const { WebSocket } = await import('ws');
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`${con.url.replace('http', 'ws')}live/000001`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => undefined);
  });
  assert.equal(refused, 401);
  assert.equal(con.stats().live.started, 0, 'no ffmpeg was started for a visitor without a session');

  const browser: Browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
  t.after(() => browser.close());
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(con.url);
  assert.match(page.url(), /\/login$/);

  // A wrong password: a message, no cookie.
  await page.fill('#user', 'alice');
  await page.fill('#password', 'wrong password');
  await page.click('#loginbtn');
  await page.waitForFunction(
    `/wrong user, password or token/.test(document.querySelector('#error').textContent)`,
    null,
    { timeout: 10_000 },
  );
  assert.deepEqual(await ctx.cookies(), []);

  // The right one: a session cookie that scripts cannot read, and the console.
  await page.fill('#password', PASSWORD);
  await page.click('#loginbtn');
  await page.waitForURL(con.url, { timeout: 10_000 });
  const [cookie] = await ctx.cookies();
  assert.equal(cookie?.httpOnly, true);
  assert.equal(cookie?.sameSite, 'Strict');
  assert.equal(await page.evaluate('document.cookie'), '');
  await page.waitForSelector('#grid .cam[data-id="000001"]', { timeout: 30_000 });
  // A camera whose detection is suspended shows it, with who and why, from the retained record.
  const gwLink = connectMqtt({ url: broker.url, clientId: `fake-gw-${process.pid}` }, log);
  t.after(() => gwLink.close({ force: true }));
  await gwLink.waitConnected(10_000);
  const record = {
    v: 1,
    camera: '000002',
    state: 'suspended',
    since: new Date().toISOString(),
    by: 'command',
    pinned: true,
    clientId: 'op-7',
    reason: 'residents meeting',
    gatewayId: 'gw-1',
  };
  await gwLink.publish('facegate/privacy/000002/state', JSON.stringify(record), { qos: 1, retain: true });
  await page.waitForSelector('#grid .cam[data-id="000002"][data-privacy="suspended"]', { timeout: 10_000 });
  assert.match(
    (await page.getAttribute('#grid .cam[data-id="000002"]', 'title')) ?? '',
    /suspended since .* by command \(op-7\): residents meeting/,
  );
  assert.equal(await page.getAttribute('#grid .cam[data-id="000001"]', 'data-privacy'), 'active');

  // The live view: the masked left half is black in the picture and outlined over it.
  await page.click('#grid .cam[data-id="000001"]');
  await page.waitForFunction(
    `Number(document.querySelector('#live-000001 canvas.video').dataset.frames || 0) >= 5`,
    null,
    { timeout: 30_000 },
  );
  const halves = await page.evaluate<{ left: number; right: number; masks: string | undefined }>(`(() => {
    const c = document.querySelector('#live-000001 canvas.video');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let left = 0, right = 0;
    // Brightest pixel away from the mask's edge (MPEG blocks blur a few pixels across it).
    for (let y = 8; y < c.height - 8; y += 4)
      for (let x = 8; x < c.width - 8; x += 4) {
        const i = (y * c.width + x) * 4;
        const v = Math.max(d[i], d[i + 1], d[i + 2]);
        if (x < c.width / 2 - 16) left = Math.max(left, v);
        else if (x > c.width / 2 + 16) right = Math.max(right, v);
      }
    return { left, right, masks: document.querySelector('#live-000001 canvas.overlay').dataset.masks };
  })()`);
  assert.ok(halves.left < 40, `masked half brightest pixel ${halves.left}`);
  assert.ok(halves.right > 80, `open half brightest pixel ${halves.right}`);
  assert.equal(halves.masks, '1', 'the mask is outlined over the picture');

  await page.click('#live-000001 button');
  await audit.waitFor((m) => m.length >= 2, 10_000, 'live view audit records');
  const recs = audit.json<{ who: string; camera: string; from: string; until: string | null }>(/audit/);
  assert.equal(recs[0]?.who, 'alice');
  assert.equal(recs[0]?.camera, '000001');
  assert.equal(recs[0]?.until, null);
  assert.equal(recs[1]?.from, recs[0]?.from);
  assert.ok(recs[1]?.until && Date.parse(recs[1].until) >= Date.parse(recs[1].from));

  // Failed logins from one address are refused after five.
  const tryLogin = (password: string) =>
    fetch(new URL('/api/login', con.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alice', password }),
    }).then((r) => r.status);
  const codes: number[] = [];
  for (let i = 0; i < 6; i++) codes.push(await tryLogin('guess'));
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
  assert.equal(await tryLogin(PASSWORD), 429, 'even the right password waits out the window');
  assert.deepEqual(pageErrors, []);
});

test('login: random bodies never throw and never log in; five failures lock the address, not others', () => {
  let t = 0;
  const auth = createConsoleAuth(
    {
      user: 'alice',
      passwordHash: hashPassword(PASSWORD, Buffer.alloc(16, 1)),
      token: 'a-token-of-enough-length',
    },
    { sessionS: 60, now: () => t },
  );
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom('user', 'password', 'token', 'x'), fc.jsonValue()), (body) => {
      const r = auth.login(`10.0.0.${Math.floor(Math.random() * 250)}`, body);
      assert.equal(r.ok, false);
    }),
    { numRuns: 40 },
  );
  for (let i = 0; i < 5; i++) assert.equal(auth.login('10.9.9.9', { token: 'nope' }).ok, false);
  const locked = auth.login('10.9.9.9', { token: 'a-token-of-enough-length' });
  assert.ok(!locked.ok && locked.status === 429);
  const other = auth.login('10.9.9.8', { token: 'a-token-of-enough-length' });
  assert.ok(other.ok && other.who === 'token');
  t += 5 * 60_000 + 1;
  assert.ok(
    auth.login('10.9.9.9', { user: 'alice', password: PASSWORD }).ok,
    'the lock ends with its window',
  );
});
