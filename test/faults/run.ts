// `npm run test:faults [-- --repeat N] [--ingest rtsp|ffmpeg] [case ...]`: the fault suite, or the
// named cases (file names without .test.ts, e.g. broker-restart), N times in a row, each round a
// fresh `node --test` process. Every case runs once per gateway ingest source (rtsp, ffmpeg), or
// only on the one --ingest names. Prints one line per round and a tally; exits 1 if any round failed, so a fault that
// shows one run in N is seen in CI. Figures of every round go to results/faults.txt.
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const dir = fileURLToPath(new URL('./', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));

function usage(msg: string): never {
  process.stderr.write(
    `test:faults: ${msg}\nusage: npm run test:faults -- [--repeat N] [--ingest rtsp|ffmpeg] [case ...]\n`,
  );
  process.exit(2);
}

const { values, positionals } = parseArgs({
  options: { repeat: { type: 'string', default: '1' }, ingest: { type: 'string' } },
  allowPositionals: true,
  strict: false,
});
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) usage(`--repeat ${String(values.repeat)} is not a count`);
const ingest = values.ingest === undefined ? undefined : String(values.ingest);
if (ingest !== undefined && ingest !== 'rtsp' && ingest !== 'ffmpeg')
  usage(`--ingest ${ingest} is not rtsp or ffmpeg`);
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
    // support.ts reads the choice: each case registers itself once per ingest kind it is given.
    const env = ingest ? { ...process.env, FACEGATE_FAULTS_INGEST: ingest } : process.env;
    const p = spawn(process.execPath, args, { cwd: root, stdio: 'inherit', env });
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
    `# faults round ${i}/${repeat}: ${code === 0 ? 'pass' : 'FAIL'} (${cases.join(', ')}; ${ingest ?? 'rtsp and ffmpeg'} ingest; load ${load})\n`,
  );
}
process.stdout.write(`# faults: ${repeat - failed} of ${repeat} rounds passed\n`);
process.exit(failed > 0 ? 1 : 0);
