import type { Command } from '../command.ts';
import { createGateway } from '../../gateway/index.ts';
import { untilSignal } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'pull RTSP cameras, detect faces, publish face events over MQTT',
  usage: `facegate gateway [--mqtt-url URL] [--id ID] [--budget-fps N]

Cameras come from gateway.cameras (config file or FACEGATE_GATEWAY_CAMERAS as JSON), or else from the
simulator's retained catalog, shared with the other online gateways by rendezvous hashing.
Publishes <prefix>/cameras/<id>/faces (QoS 1), camera and gateway status (retained) and stats;
serves Prometheus /metrics and /healthz on http.host:http.port.`,
  flags: [
    { name: 'mqtt-url', type: 'string', path: 'mqtt.url', help: 'MQTT broker URL' },
    { name: 'id', type: 'string', path: 'gateway.id', help: 'gateway id (default gw-<host>-<pid>)' },
    {
      name: 'budget-fps',
      type: 'string',
      path: 'gateway.budgetFps',
      help: 'inferences per second across all cameras',
    },
    { name: 'ingest', type: 'string', path: 'gateway.ingest', help: 'rtsp | ffmpeg' },
    {
      name: 'decode',
      type: 'string',
      path: 'gateway.ingest.decode',
      help: 'keyframes | fps:<n> (ffmpeg ingest)',
    },
    { name: 'http-port', type: 'string', path: 'http.port', help: '/metrics port (0: any free port)' },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const gw = await createGateway(cfg, { log, ffmpeg });
    return untilSignal(() => [{ name: 'gateway', close: () => gw.close() }], { timeoutMs: 10_000, log });
  },
};
