// The capacity search (bench/capacity.ts) on a fake measure: the count where a side stops meeting
// its criteria is known, so the search's answer, its bounds and its number of points can be checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchCapacity, worstCasePoints, type SearchOptions } from '../bench/capacity.ts';

const opts: SearchOptions = { min: 50, max: 1600, resolution: 10, relative: 0.05 };

test('capacity search brackets the true capacity within its resolution', async () => {
  const bound = await worstCasePoints(opts);
  for (const cap of [0, 49, 50, 51, 99, 100, 137, 300, 333, 799, 1000, 1599, 1600, 5000]) {
    const tried: number[] = [];
    const r = await searchCapacity(async (n) => {
      tried.push(n);
      return { pass: n <= cap, value: n };
    }, opts);
    const expectedMax = Math.min(cap, opts.max);
    // Never above the truth, and within max(resolution, 5 %) below it.
    assert.ok(r.cameras <= expectedMax, `cap ${cap}: found ${r.cameras}`);
    const tol = Math.max(opts.resolution, Math.floor(opts.relative * r.cameras));
    assert.ok(expectedMax - r.cameras <= tol, `cap ${cap}: found ${r.cameras}, tolerance ${tol}`);
    assert.equal(r.hitMax, cap >= opts.max, `cap ${cap}: hitMax`);
    // Every count tried is within the bounds, none twice, and the bound on points holds.
    for (const n of tried) assert.ok(n >= 1 && n <= opts.max, `cap ${cap}: tried ${n}`);
    assert.equal(new Set(tried).size, tried.length, `cap ${cap}: a count tried twice: ${tried.join(',')}`);
    assert.ok(tried.length <= bound, `cap ${cap}: ${tried.length} points > bound ${bound}`);
    // Doubling first: the counts tried before the first fail are min, 2min, 4min, ... (capped at max).
    const firstFail = r.points.findIndex((p) => !p.pass);
    const doubling = firstFail < 0 ? r.points : r.points.slice(0, firstFail + 1);
    for (const [i, p] of doubling.entries()) assert.equal(p.cameras, Math.min(opts.max, opts.min * 2 ** i));
    // The answer is a count that passed (or 0), and the points record each outcome.
    if (r.cameras > 0) assert.ok(r.points.some((p) => p.cameras === r.cameras && p.pass));
    for (const p of r.points) assert.equal(p.pass, p.cameras <= cap);
  }
});

test('capacity search: nothing passes gives 0 after bisecting below min; the bound is small', async () => {
  const r = await searchCapacity(async () => ({ pass: false, value: 0 }), {
    min: 4,
    max: 32,
    resolution: 1,
    relative: 0.1,
  });
  assert.equal(r.cameras, 0);
  assert.equal(r.hitMax, false);
  assert.deepEqual(
    r.points.map((p) => p.cameras),
    [4, 2, 1],
  );
  // 50..1600 by doubling is 6 counts; bisection of the last gap (800..1600) to 5 % adds at most 7.
  const bound = await worstCasePoints(opts);
  assert.ok(bound >= 6 && bound <= 14, `bound ${bound}`);
  await assert.rejects(searchCapacity(async () => ({ pass: true, value: 0 }), { ...opts, min: 0 }));
});

test('a tiny real capacity run: gateway 4..8 cameras, Frigate-like up to 2', {
  timeout: 240_000,
}, async () => {
  const { defaultConfig } = await import('../config/load.ts');
  const { resolveFfmpeg } = await import('../shared/ffmpeg.ts');
  const { createLogger } = await import('../shared/log.ts');
  const { runCapacity, CRITERIA } = await import('../bench/capacity-run.ts');
  const base = defaultConfig();
  // The quick scenes (2 clips of 20 s), as `facegate bench --quick` renders them.
  const cfg = { ...base, city: { ...base.city, scenes: 2, sceneSeconds: 20, profile: 'busy' as const } };
  const lines: string[] = [];
  const sink = new (await import('node:stream')).Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  const ac = new AbortController();
  const o = {
    gateway: { min: 4, max: 8, resolution: 2, relative: 0.1 },
    frigate: { min: 2, max: 2, resolution: 1, relative: 0.1 },
    durationS: 20,
    warmupS: 3,
  };
  const r = await runCapacity(
    {
      cfg,
      deps: {
        cfg,
        env: process.env,
        log: createLogger({ level: 'warn', format: 'json' }),
        ffmpeg: resolveFfmpeg(cfg.ffmpeg.path, process.env['PATH'] ?? ''),
        stdout: sink,
        stderr: sink,
        signal: ac.signal,
      },
      durationS: o.durationS,
      warmupS: o.warmupS,
      simulators: 1,
      limitInputsPerProcess: 16,
      say: (s) => lines.push(s),
    },
    o,
  );
  for (const [name, side, so] of [
    ['gateway', r, o.gateway],
    ['frigate', r.frigate, o.frigate],
  ] as const) {
    assert.ok(side, `${name} searched`);
    assert.ok(side.points.length >= 1 && side.points.length <= (await worstCasePoints(so)), `${name} points`);
    for (const p of side.points) {
      assert.ok(p.cameras >= 1 && p.cameras <= so.max, `${name} tried ${p.cameras}`);
      assert.equal(p.side.cameras, p.cameras);
      assert.ok(p.side.cpuMsPerCameraSecond > 0, `${name}@${p.cameras} CPU`);
      // A point passes exactly when it meets the criteria.
      const meets =
        (p.side.recall ?? 0) >= CRITERIA.recallMin &&
        (p.side.latencyMsP95 ?? Infinity) <= CRITERIA.latencyMsP95Max;
      assert.equal(p.pass, meets, `${name}@${p.cameras}: ${JSON.stringify(p.side)}`);
    }
    const passed = side.points.filter((p) => p.pass).map((p) => p.cameras);
    assert.equal(side.cameras, passed.length > 0 ? Math.max(...passed) : 0, `${name} capacity`);
    assert.equal(side.at === null, side.cameras === 0);
    if (side.at) assert.equal(side.at.cameras, side.cameras);
    assert.equal(side.hitMax, side.cameras === so.max);
  }
  // Doubling: the gateway search starts at its minimum.
  assert.equal(r.points[0]?.cameras, 4);
  assert.ok(lines.some((l) => /capacity gateway: 4 cameras/.test(l)));
});
