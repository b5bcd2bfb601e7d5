// The web console: its bounded state on its own, then a small city (mosquitto, simulator, one
// gateway) watched through the page in headless Debian Chromium: cameras online, a face event,
// a live view whose canvas shows video, the camera-count control, the live-view limit and stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createSimulator } from '../simulator/index.ts';
import { createGateway } from '../gateway/index.ts';
import { createConsole } from '../console/server.ts';
import { createConsoleState, defaultLimits } from '../console/state.ts';
import { jsmpegHeader, sequenceSize } from '../console/live.ts';
import { startTestBroker } from './helpers/broker.ts';
import { needs } from './helpers/tools.ts';
import { captureLogger } from './helpers/logs.ts';
import { testConfig, systemFfmpeg } from './helpers/city.ts';
import { waitFor } from './helpers/net.ts';
import { connectMqtt } from '../shared/mqtt.ts';

const CHROMIUM = '/usr/bin/chromium';

test('console state keeps bounded events and stats, ignores bad payloads, tracks faces on screen', () => {
  const s = createConsoleState('fg', { ...defaultLimits, events: 3, statsMinutes: 1, statsSamples: 5 });
  const face = (type: string, eventId: string, cameraId = '000001'): Buffer =>
    Buffer.from(
      JSON.stringify({
        v: 1,
        type,
        eventId,
        trackId: 1,
        cameraId,
        gatewayId: 'gw-1',
        ts: '2025-01-01T00:00:00.000Z',
        box: [0.1, 0.2, 0.3, 0.4],
        score: 0.9,
        frame: { width: 640, height: 360 },
      }),
    );
  for (let i = 0; i < 5; i++)
    assert.equal(s.apply('fg/cameras/000001/faces', face('start', `e${i}`))?.kind, 'face');
  s.apply('fg/cameras/000001/faces', face('end', 'e4'));
  const snap = s.snapshot();
  assert.deepEqual(
    snap.events.map((e) => `${e.eventId}:${e.type}`),
    ['e3:start', 'e4:start', 'e4:end'],
  );
  assert.deepEqual(snap.active.map((e) => e.eventId).sort(), ['e0', 'e1', 'e2', 'e3']);
  // A face whose camera differs from its topic, garbage and unknown topics are ignored.
  assert.equal(s.apply('fg/cameras/000002/faces', face('start', 'x')), undefined);
  assert.equal(s.apply('fg/cameras/000001/status', Buffer.from('{not json')), undefined);
  assert.equal(s.apply('fg/cameras/+/status', Buffer.from('{"status":"online"}')), undefined);
  assert.equal(s.apply('other/cameras/000001/status', Buffer.from('{"status":"online"}')), undefined);
  assert.equal(s.counters.ignored, 4);
  // Stats: at most statsSamples, none older than statsMinutes.
  const t0 = 1_000_000;
  for (let i = 0; i < 10; i++)
    s.apply(
      'fg/gateways/gw-1/stats',
      Buffer.from(
        JSON.stringify({
          cameras: { assigned: 2, online: 2 },
          frames: {
            decoded: i,
            analysed: i,
            dropped: { motion: i, slot: 1 },
            skipped: { still: 2 * i },
            catchUp: { decoded: i, refused: 0 },
          },
          cpuPercent: 5,
          rssMb: 90,
        }),
      ),
      t0 + i * 1000,
    );
  let g = s.snapshot(t0 + 10_000).gateways['gw-1'];
  assert.ok(g);
  assert.equal(g.stats.length, 5);
  assert.equal(g.stats.at(-1)?.dropped, 10);
  assert.equal(g.stats.at(-1)?.skippedStill, 18, 'keyframes the activity gate skipped');
  assert.equal(g.stats.at(-1)?.catchUp, 9, 'GOPs decoded on onset');
  s.apply('fg/gateways/gw-1/stats', Buffer.from(JSON.stringify({ cameras: {}, frames: {} })), t0 + 68_500);
  g = s.snapshot(t0 + 68_500).gateways['gw-1'];
  assert.ok(g);
  assert.equal(g.stats.at(-1)?.skippedStill, 0, 'a gateway without the gate (or ffmpeg ingest) skips none');
  assert.equal(g.stats.length, 2, 'samples older than a minute are gone');
  // The catalog refuses cameras that could not be topic levels or RTSP URLs; an empty retained message clears it.
  s.apply(
    'fg/simulator/catalog',
    Buffer.from(
      JSON.stringify({
        v: 1,
        count: 3,
        cameras: [
          { id: '000001', url: 'rtsp://h/cam/000001', district: 'arbat', building: 1, entrance: 2 },
          { id: 'a/b', url: 'rtsp://h/x' },
          { id: '000003', url: 'file:///etc/passwd' },
        ],
      }),
    ),
  );
  assert.deepEqual(
    s.snapshot().catalog.cameras.map((c) => c.id),
    ['000001'],
  );
  assert.equal(s.catalogUrl('000001'), 'rtsp://h/cam/000001');
  assert.equal(s.catalogUrl('000003'), undefined);
  s.apply('fg/simulator/catalog', Buffer.alloc(0));
  assert.equal(s.catalogUrl('000001'), undefined);
});

test('live view helpers: jsmpeg header and the MPEG-1 sequence header size', () => {
  assert.deepEqual([...jsmpegHeader(640, 360)], [0x6a, 0x73, 0x6d, 0x70, 0x02, 0x80, 0x01, 0x68]);
  assert.deepEqual(sequenceSize(Buffer.from([9, 9, 0, 0, 1, 0xb3, 0x28, 0x01, 0x68, 0x13])), {
    width: 640,
    height: 360,
  });
  assert.equal(sequenceSize(Buffer.from([0, 0, 1, 0xb3, 0x28])), undefined);
});

/** Distinct colours (5 bits a channel) in a sample of a canvas's pixels, read in the page. */
async function canvasColours(page: Page, selector: string): Promise<number> {
  return page.evaluate<number>(`(() => {
    const c = document.querySelector(${JSON.stringify(selector)});
    if (!c || !c.width) return 0;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] >> 3) * 1024 + (d[i + 1] >> 3) * 32 + (d[i + 2] >> 3));
    return seen.size;
  })()`);
}

/** Waits until a JavaScript expression, evaluated in the page, is true. */
function until(page: Page, expression: string, timeout: number): Promise<unknown> {
  return page.waitForFunction(expression, null, { timeout });
}

test('console in Chromium: cameras online, face events, live video with boxes, camera count, live-view limit', {
  ...needs('chromium', 'mosquitto'),
  timeout: 120_000,
}, async (t) => {
  const started = Date.now();
  // Closed newest first, each step bounded, so one stuck component cannot hang the run.
  const cleanup: Array<[string, () => Promise<unknown>]> = [];
  t.after(async () => {
    for (const [name, close] of cleanup.reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${name} did not close in 10 s`)), 10_000)),
      );
      try {
        await Promise.race([close(), timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
  });
  const broker = await startTestBroker();
  cleanup.push(['broker', () => broker.stop()]);
  const { log } = captureLogger('silent');
  const ffmpeg = systemFfmpeg();
  const cfg = testConfig([
    `mqtt.url=${broker.url}`,
    'city.cameras=3',
    'gateway.settleS=0.5',
    'gateway.statsEveryS=1',
  ]);
  const sim = await createSimulator(cfg, { log, ffmpeg });
  cleanup.push(['simulator', () => sim.close()]);
  const gw = await createGateway(
    { ...cfg, gateway: { ...cfg.gateway, id: 'gw-1' } },
    { log, ffmpeg, http: false },
  );
  cleanup.push(['gateway', () => gw.close()]);
  const con = await createConsole(cfg, { log, ffmpeg, port: 0, maxLiveViews: 1, liveGraceMs: 500 });
  cleanup.push(['console', () => con.close()]);
  assert.match(con.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  cleanup.push(['browser', () => browser.close()]);
  const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(con.url);

  // The grid, grouped by district, shows the three cameras online.
  await until(page, `document.querySelectorAll('#grid .cam[data-status="online"]').length === 3`, 30_000);
  const districts = await page.$$eval('#grid .district', (els) =>
    els.map((e) => e.getAttribute('data-district')),
  );
  assert.ok(
    districts.length >= 1 && districts.every((d) => d && d !== '(none)'),
    `districts: ${JSON.stringify(districts)}`,
  );
  await page.waitForSelector('#gateways .gw[data-id="gw-1"][data-status="online"]', { timeout: 10_000 });

  // Live view of the first camera: jsmpeg decodes frames into the canvas, which is not one colour.
  await page.click('#grid .cam[data-id="000001"]');
  await until(
    page,
    `Number(document.querySelector('#live-000001 canvas.video').dataset.frames || 0) >= 5`,
    30_000,
  );
  const colours = await canvasColours(page, '#live-000001 canvas.video');
  assert.ok(colours > 8, `the video canvas shows ${colours} distinct colours`);
  assert.deepEqual(
    await page.evaluate<number[]>(
      `(c => [c.width, c.height])(document.querySelector('#live-000001 canvas.video'))`,
    ),
    [cfg.city.width, cfg.city.height],
  );
  assert.equal(con.stats().live.views, 1);

  // A face event reaches the list (the scenes put a face on some camera every few seconds).
  await page.waitForSelector('#events li[data-type="start"]', { timeout: 45_000 });
  // A face on the open camera draws its box over the live view: box-yellow pixels on the overlay.
  await until(page, `document.querySelector('#grid .cam[data-id="000001"].face') !== null`, 60_000);
  await until(
    page,
    `(c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 230 && d[i + 1] > 190 && d[i + 1] < 230 && d[i + 2] < 100) n++;
      return n > 100; })(document.querySelector('#live-000001 canvas.overlay'))`,
    5_000,
  );
  await page.waitForTimeout(3000);
  mkdirSync('docs', { recursive: true });
  // results/ is git-ignored; docs/console.png (in the README) is a copy of one of these.
  mkdirSync('results', { recursive: true });
  await page.screenshot({ path: 'results/console.png' });
  assert.ok(statSync('results/console.png').size < 300_000, 'screenshot under 300 KB');

  // maxLiveViews=1: a second camera is refused with a reason the page shows.
  await page.click('#grid .cam[data-id="000002"]');
  await until(
    page,
    `/at most 1 live views/.test(document.querySelector('#live-000002 .note').textContent)`,
    10_000,
  );
  await page.click('#live-000002 button');

  // Closing the view stops its ffmpeg after the grace period.
  await page.click('#live-000001 button');
  await waitFor(() => con.stats().live.views === 0, 10_000, 'live view stopped after its last viewer left');

  // The camera-count control: the page posts, the console publishes, the simulator grows.
  await page.fill('#camcount', '4');
  await page.click('#camset');
  await until(page, `document.querySelectorAll('#grid .cam').length === 4`, 15_000);
  assert.equal(sim.fleet.count(), 4);

  // Cross-site posts are refused.
  const res = await fetch(new URL('/api/simulator', con.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
    body: '{"cameras":9}',
  });
  assert.equal(res.status, 403);
  const form = await fetch(new URL('/api/simulator', con.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'cameras=9',
  });
  assert.equal(form.status, 415);

  assert.deepEqual(pageErrors, []);
  assert.equal(con.stats().pagesDropped, 0);
  t.diagnostic(`console test took ${((Date.now() - started) / 1000).toFixed(1)} s`);
});

test('a page that stops reading its event stream is dropped, not buffered', {
  timeout: 60_000,
}, async (t) => {
  const broker = await startTestBroker();
  t.after(() => broker.stop());
  const { log } = captureLogger('silent');
  const cfg = testConfig([`mqtt.url=${broker.url}`]);
  const con = await createConsole(cfg, {
    log,
    ffmpeg: systemFfmpeg(),
    port: 0,
    sseMaxBufferedBytes: 64 * 1024,
  });
  t.after(() => con.close());
  await waitFor(() => con.stats().mqtt.connected, 10_000, 'console connected');
  // A reader that sends the request and then never reads a byte.
  const sock = connect(con.port, '127.0.0.1');
  t.after(() => sock.destroy());
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write('GET /events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  sock.pause();
  await waitFor(() => con.stats().pages === 1, 5000, 'page open');
  const pub = connectMqtt({ url: broker.url, clientId: `console-test-pub-${process.pid}` }, log);
  t.after(() => pub.close({ force: true }));
  await pub.waitConnected(10_000);
  const ev = (i: number): string =>
    JSON.stringify({
      v: 1,
      type: 'start',
      eventId: `e${i}`.padEnd(120, 'x'),
      trackId: i,
      cameraId: '000001',
      gatewayId: 'gw-1',
      ts: new Date().toISOString(),
      box: [0.1, 0.1, 0.2, 0.2],
      score: 0.9,
      frame: { width: 640, height: 360 },
    });
  // Loopback socket buffers hold a few MB; send until the console gives up on the page.
  for (let i = 0; i < 200_000 && con.stats().pagesDropped === 0; i++) {
    await pub.publish('facegate/cameras/000001/faces', ev(i), { qos: i % 500 === 0 ? 1 : 0 });
  }
  t.diagnostic(JSON.stringify(con.stats()));
  await waitFor(() => con.stats().pagesDropped === 1 && con.stats().pages === 0, 10_000, 'slow page dropped');
  // The console still serves others.
  const res = await fetch(new URL('/api/state', con.url));
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { events: unknown[] }).events.length, defaultLimits.events);
});
