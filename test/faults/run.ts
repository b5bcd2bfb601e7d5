// `npm run test:faults [-- --repeat N] [case ...]`: the fault suite, or the named cases (file names
// without .test.ts, e.g. broker-restart), N times in a row, each round a fresh `node --test`
// process. Prints one line per round and a tally; exits 1 if any round failed, so a fault that
// shows one run in N is seen in CI. Figures of every round go to results/faults.txt.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dir = fileURLToPath(new URL('./', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

function usage(msg: string): never {
  process.stderr.write(`test:faults: ${msg}\nusage: npm run test:faults -- [--repeat N] [case ...]\n`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  options: { repeat: { type: 'string', default: '1' } },
  allowPositionals: true,
  strict: false,
});
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`--repeat ${String(values.repeat)} is not a count`);
const all = readdirSync(dir)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -'.test.ts'.length))
  .sort();
const cases = positionals.length > 0 ? positionals : all;
const unknown = cases.filter((c) => !all.includes(c));
if (unknown.length > 0) usage(`no fault case ${unknown.join(', ')} (cases: ${all.join(', ')})`);

function round(): Promise<number> {
  const files = cases.map((c) => `test/faults/${c}.test.ts`);
  const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', ...files];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
    p.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

rmSync(`${root}results/faults.txt`, { force: true });
let failed = 0;
for (let i = 1; i <= repeat; i++) {
  const code = await round();
  if (code !== 0) failed++;
  const load = loadavg()[0]?.toFixed(1);
  process.stdout.write(
    `# faults round ${i}/${repeat}: ${code === 0 ? 'pass' : 'FAIL'} (${cases.join(', ')}; load ${load})\n`,
  );
}
process.stdout.write(`# faults: ${repeat - failed} of ${repeat} rounds passed\n`);
process.exit(failed > 0 ? 1 : 0);
