import type { Command } from '../command.ts';
import { createSimulator } from '../../simulator/index.ts';
import { untilSignal } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';
import { progressReporter } from '../progress.ts';

export const simulatorCommand: Command = {
  name: 'simulator',
  summary: 'serve the virtual entrance cameras over RTSP',
  usage: `facegate simulator [--cameras N] [--port P] [--mqtt-url URL]

Renders the scenes once (cached under simulator.cacheDir), then serves rtsp://<host>:<port>/cam/000001 ...
With a broker it publishes <prefix>/simulator/catalog and status (retained) and obeys <prefix>/simulator/set.
--shard k/n, a-b or auto serves part of the city; it then publishes <prefix>/simulator/shards/<shard>/catalog
and status, and gateways merge the shards' catalogs.`,
  flags: [
    { name: 'cameras', type: 'string', path: 'city.cameras', help: 'number of cameras' },
    { name: 'port', type: 'string', path: 'simulator.port', help: 'RTSP port (0: any free port)' },
    { name: 'host', type: 'string', path: 'simulator.host', help: 'RTSP bind address' },
    { name: 'mqtt-url', type: 'string', path: 'mqtt.url', help: 'MQTT broker URL (optional)' },
    { name: 'shard', type: 'string', path: 'simulator.shard', help: 'k/n, a-b (camera numbers) or auto' },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const sim = await createSimulator(cfg, {
      log,
      ffmpeg,
      onProgress: progressReporter('rendering scenes', ctx.stderr, log),
    });
    const part = sim.shardId ? ` (shard ${sim.shardId}: ${sim.fleet.list().length} of them)` : '';
    ctx.stdout.write(`facegate simulator: ${sim.fleet.count()} cameras${part} at ${sim.url('000001')} ...\n`);
    return untilSignal(() => [{ name: 'simulator', close: () => sim.close() }], { timeoutMs: 8000, log });
  },
};
