import type { Command, CommandContext } from '../command.ts';
import { UserError } from '../../config/errors.ts';
import { createConsole, consoleDefaults, consoleSettings } from '../../console/server.ts';
import { untilSignal } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';
import { defaultMqttUrl } from './watch.ts';

/** A command-only integer flag (the console section is not in the configuration schema yet). */
function intFlag(ctx: CommandContext, flag: string, min: number, max: number): number | undefined {
  const raw = ctx.flags[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UserError(`console: --${flag} takes an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`, 2);
  }
  return n;
}

export const consoleCommand: Command = {
  name: 'console',
  summary: 'web page of the city from any broker: cameras, face events, gateway load, live video',
  usage: `facegate console [--port P] [--host H] [--max-live-views N] [--mqtt-url URL]

Serves http://<host>:<port>/ (default ${consoleDefaults.port} on http.host): the cameras of the simulator's catalog by
district with their statuses, face events as they come, each gateway's load over the last minutes,
and the simulator's camera count (changed from the page when simulator.control is true). Click a
camera to watch it live (ffmpeg -> MPEG-1 -> jsmpeg, at most --max-live-views at once).`,
  flags: [
    { name: 'mqtt-url', type: 'string', path: 'mqtt.url', help: 'MQTT broker URL (default mqtt://127.0.0.1:<broker.port>)' },
    { name: 'port', type: 'string', help: `console port (default ${consoleDefaults.port}; 0: any free port)` },
    { name: 'host', type: 'string', help: 'bind address (default http.host)' },
    { name: 'max-live-views', type: 'string', help: `live videos at once (default ${consoleDefaults.maxLiveViews})` },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const port = intFlag(ctx, 'port', 0, 65535);
    const maxLiveViews = intFlag(ctx, 'max-live-views', 0, 64);
    const host = typeof ctx.flags['host'] === 'string' ? ctx.flags['host'] : undefined;
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);
    const settings = consoleSettings(cfg);
    const con = await createConsole(cfg, {
      log,
      ffmpeg,
      mqttUrl: defaultMqttUrl(cfg),
      port: port ?? settings.port ?? consoleDefaults.port,
      ...(host !== undefined ? { host } : {}),
      ...(maxLiveViews !== undefined ? { maxLiveViews } : {}),
    });
    ctx.stdout.write(`facegate console: ${con.url}  (Ctrl-C to stop)\n`);
    return untilSignal(() => [{ name: 'console', close: () => con.close() }], { timeoutMs: 8000, log });
  },
};
