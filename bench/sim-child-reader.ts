// Child process of bench/sim.ts: the load reader, in its own process so it does not share the
// simulator's CPU account. Commands on stdin: "reset", "stats"; stdin end exits.
// Usage: node --import tsx bench/sim-child-reader.ts <port> <sessions> <path|"cams">
import { startLoadReader } from '../simulator/rtsp/load-reader.ts';

const [port, sessions, path] = process.argv.slice(2);
const reader = await startLoadReader({
  host: '127.0.0.1',
  port: Number(port),
  sessions: Number(sessions),
  path: path === 'cams' || !path ? (i) => `/cam/${String(i + 1).padStart(6, '0')}` : () => path,
  concurrency: 32,
  setupTimeoutMs: 30_000,
});
process.stdout.write(`${JSON.stringify({ event: 'playing', ...reader.stats() })}\n`);
process.stdin.on('data', (d: Buffer) => {
  const cmd = d.toString();
  if (cmd.includes('reset')) reader.resetCounters();
  if (cmd.includes('stats'))
    process.stdout.write(`${JSON.stringify({ event: 'stats', ...reader.stats() })}\n`);
});
process.stdin.on('end', () => void reader.close().then(() => process.exit(0)));
