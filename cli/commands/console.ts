import type { Command } from '../command.ts';
import { createConsole } from '../../console/server.ts';
import { untilSignal } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';
import { defaultMqttUrl } from './watch.ts';

export const consoleCommand: Command = {
  name: 'console',
  summary: 'web page of the city from any broker: cameras, face events, gateway load, live video',
  usage: `facegate console [--port P] [--host H] [--max-live-views N] [--mqtt-url URL]

Serves http://<host>:<port>/ (console.port, default 8081, on http.host): the cameras of the simulator's catalog by
district with their statuses, face events as they come, each gateway's load over the last minutes,
and the simulator's camera count (changed from the page when simulator.control is true). Click a
camera to watch it live (ffmpeg -> MPEG-1 -> jsmpeg, at most --max-live-views at once).`,
  flags: [
    {
      name: 'mqtt-url',
      type: 'string',
      path: 'mqtt.url',
      help: 'MQTT broker URL (default mqtt://127.0.0.1:<broker.port>)',
    },
    { name: 'port', type: 'string', path: 'console.port', help: 'console port (0: any free port)' },
    { name: 'host', type: 'string', path: 'console.host', help: 'bind address (default http.host)' },
    { name: 'max-live-views', type: 'string', path: 'console.maxLiveViews', help: 'live videos at once' },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const con = await createConsole(cfg, {
      log,
      ffmpeg,
      mqttUrl: defaultMqttUrl(cfg),
    });
    ctx.stdout.write(`facegate console: ${con.url}  (Ctrl-C to stop)\n`);
    return untilSignal(() => [{ name: 'console', close: () => con.close() }], { timeoutMs: 8000, log });
  },
};
