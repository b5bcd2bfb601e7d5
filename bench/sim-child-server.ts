// Child process of bench/sim.ts: our RTSP server alone in a process, so its CPU and RSS are its own.
// Usage: node --import tsx bench/sim-child-server.ts <clip.h264> <width> <height> <fps>
import { createLogger } from '../shared/log.ts';
import { createRtspServer } from '../simulator/rtsp/server.ts';
import { unitHash } from '../simulator/rtsp/faults.ts';

const [file, width, height, fps] = process.argv.slice(2);
if (!file) throw new Error('usage: sim-child-server.ts <clip> <width> <height> <fps>');
const log = createLogger({ level: 'warn', format: 'json', destination: process.stderr });
const server = createRtspServer(
  {
    host: '127.0.0.1',
    port: 0,
    maxSessions: 100_000,
    clips: [
      { index: 0, file, width: Number(width ?? 640), height: Number(height ?? 360), fps: Number(fps ?? 10) },
    ],
    // Every camera plays the clip at its own phase, as the fleet would.
    resolve: (id) => ({ clip: 0, phaseS: unitHash(id) * 3600 }),
  },
  { log },
);
const { port } = await server.listen();
process.stdout.write(`${JSON.stringify({ port })}\n`);
// Run with --expose-gc: the parent asks for a collection before each RSS sample.
const gc = (globalThis as { gc?: () => void }).gc;
process.stdin.on('data', (d: Buffer) => {
  if (d.toString().includes('gc')) {
    gc?.();
    process.stdout.write(`${JSON.stringify({ gc: gc !== undefined })}\n`);
  }
  if (d.toString().includes('stats'))
    process.stdout.write(
      `${JSON.stringify(server.stats(), (k, v: unknown) => (k === 'perCamera' ? undefined : v))}\n`,
    );
});
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
