import type { Command } from '../command.ts';
import { createConsole } from '../../console/server.ts';
import { untilSignal } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';
import { defaultMqttUrl } from './watch.ts';
import { hashPassword } from '../../console/auth.ts';
import { FACEGATE_ERR_USAGE } from '../../shared/errors.ts';

/** The password on stdin (one line; the newline is not part of it). */
async function readPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).length > 4096)
      throw FACEGATE_ERR_USAGE('console hash-password: input too long');
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export const consoleCommand: Command = {
  name: 'console',
  summary: 'web page of the city from any broker: cameras, face events, gateway load, live video',
  usage: `facegate console [--port P] [--host H] [--max-live-views N] [--mqtt-url URL]
facegate console hash-password < password-file   prints a console.auth.passwordHash

Serves http://<host>:<port>/ (console.port, default 8081, on http.host): the cameras of the simulator's catalog by
district with their statuses, face events as they come, each gateway's load over the last minutes,
and the simulator's camera count (changed from the page when simulator.control is true). Click a
camera to watch it live (ffmpeg -> MPEG-1 -> jsmpeg, at most --max-live-views at once).
With console.auth (user and passwordHash, or token) visitors log in first; off loopback it
refuses to start without it unless console.allowAnonymous=true.`,
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
    if (ctx.args[0] === 'hash-password') {
      const pw = await readPassword();
      if (pw.length < 8)
        throw FACEGATE_ERR_USAGE('console hash-password: give a password of 8 or more characters on stdin');
      ctx.stdout.write(`${hashPassword(pw)}\n`);
      return 0;
    }
    if (ctx.args.length > 0)
      throw FACEGATE_ERR_USAGE(
        `console: unknown subcommand ${JSON.stringify(ctx.args[0])}; use hash-password`,
      );
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
