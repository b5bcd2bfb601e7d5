import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/facegate.js', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

interface Side {
  cpuMsPerCameraSecond: number;
  rssMbPerCamera: number;
  framesAnalysed: number;
  framesDropped: number;
}

test('facegate bench --quick --simulators 2 writes plausible figures', { timeout: 240_000 }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-bench-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'bench.json');
  const r = spawnSync(process.execPath, [cli, 'bench', '--quick', '--simulators', '2', '--out', out, '--set', 'log.level=warn'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 230_000,
  });
  assert.equal(r.status, 0, `bench failed (${r.status} ${r.signal}): ${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /cpu ms\/cam-s/);
  const j = JSON.parse(readFileSync(out, 'utf8')) as {
    cameras: number;
    simulators: number;
    durationS: number;
    gateway: Side;
    limit: Side;
    naive: Side & { recall: number; precision: number };
    ratios: { gatewayToLimit: number; naiveToGateway: number };
    events: { recall: number; precision: number; latencyMsP50: number; latencyMsP95: number };
    simulator: { cpuMsPerStreamSecond: number };
  };
  assert.equal(j.cameras, 20);
  // The cameras came from two simulator shards (1/2 and 2/2), scored against one city's truth.
  assert.equal(j.simulators, 2);
  assert.equal(j.durationS, 30);
  assert.ok(j.gateway.cpuMsPerCameraSecond > 0, 'gateway CPU');
  assert.ok(j.gateway.rssMbPerCamera > 0, 'gateway memory');
  assert.ok(j.gateway.framesAnalysed > 0, 'gateway analysed frames');
  assert.ok(j.gateway.framesDropped >= 0);
  assert.ok(j.limit.cpuMsPerCameraSecond > 0, 'limit CPU');
  assert.ok(j.naive.cpuMsPerCameraSecond > 0, 'naive CPU');
  assert.ok(j.simulator.cpuMsPerStreamSecond > 0, 'simulator CPU');
  for (const [name, v] of Object.entries({
    recall: j.events.recall,
    precision: j.events.precision,
    naiveRecall: j.naive.recall,
    naivePrecision: j.naive.precision,
  })) {
    assert.ok(v >= 0 && v <= 1, `${name} ${v} in [0, 1]`);
  }
  assert.ok(j.events.latencyMsP95 >= j.events.latencyMsP50);
  assert.ok(Number.isFinite(j.ratios.gatewayToLimit) && j.ratios.gatewayToLimit > 0);
  assert.ok(Number.isFinite(j.ratios.naiveToGateway) && j.ratios.naiveToGateway > 0);
});
