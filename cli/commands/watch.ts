import type { Command, CommandContext } from '../command.ts';
import type { Config } from '../../config/schema.ts';
import { FACEGATE_ERR_BROKER, FACEGATE_ERR_USAGE } from '../../shared/errors.ts';
import { createLogger, redactUrl } from '../../shared/log.ts';
import { connectMqtt, mqttOptionsFrom } from '../../shared/mqtt.ts';
import {
  badFilter,
  cameraIdProblem,
  jsonLine,
  readableLine,
  wanted,
  watchFilters,
  type CatalogTally,
  type Received,
} from '../watch-format.ts';

/** The broker the other commands use when mqtt.url is empty (the one `facegate up` embeds). */
export function defaultMqttUrl(cfg: Config): string {
  if (cfg.mqtt.url) return cfg.mqtt.url;
  const h = cfg.broker.host;
  const host = h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
  return `mqtt://${host}:${cfg.broker.port}`;
}

function positiveNumber(ctx: CommandContext, flag: string, integer: boolean): number | undefined {
  const raw = ctx.flags[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (
    typeof raw !== 'string' ||
    raw.trim() === '' ||
    !Number.isFinite(n) ||
    n <= 0 ||
    (integer && !Number.isInteger(n))
  ) {
    throw FACEGATE_ERR_USAGE(
      `watch: --${flag} takes a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function stringList(v: string | boolean | string[] | undefined): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v : [];
}

export const watchCommand: Command = {
  name: 'watch',
  summary: 'show face events and camera/gateway statuses from the broker, one line each',
  usage: `facegate watch [--camera ID] [--topic FILTER]... [--json] [--count N] [--mqtt-url URL]

Subscribes to <prefix>/cameras/+/faces, cameras/+/status, gateways/+/status and the simulator's (or each shard's) catalog and status.
Retained messages (statuses as they stand) come first, marked [retained]; the catalog shows its size only.
--json prints {"topic","ts"(received),"retained","payload"} per line. Exit 4 when the broker cannot be reached.`,
  flags: [
    {
      name: 'mqtt-url',
      type: 'string',
      path: 'mqtt.url',
      help: 'MQTT broker URL (default mqtt://127.0.0.1:<broker.port>)',
    },
    { name: 'camera', type: 'string', help: "only this camera's face events and status" },
    {
      name: 'topic',
      type: 'string',
      multiple: true,
      help: 'MQTT filter to subscribe to instead (repeatable), e.g. facegate/gateways/+/stats',
    },
    { name: 'json', type: 'boolean', help: 'one JSON object per line' },
    { name: 'count', type: 'string', help: 'exit 0 after N messages' },
    { name: 'timeout', type: 'string', help: 'seconds to wait for the broker (default 5)' },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const prefix = cfg.mqtt.prefix.replace(/\/+$/, '');
    const camera = typeof ctx.flags['camera'] === 'string' ? ctx.flags['camera'] : undefined;
    if (camera !== undefined) {
      const why = cameraIdProblem(camera);
      if (why) throw FACEGATE_ERR_USAGE(`watch: --camera ${JSON.stringify(camera)} ${why}`);
    }
    const topics = stringList(ctx.flags['topic']);
    for (const t of topics) {
      const why = badFilter(t);
      if (why) throw FACEGATE_ERR_USAGE(`watch: --topic ${JSON.stringify(t)} is not an MQTT filter: ${why}`);
    }
    const count = positiveNumber(ctx, 'count', true);
    const timeoutS = positiveNumber(ctx, 'timeout', false) ?? 5;
    const json = ctx.flags['json'] === true;
    const url = defaultMqttUrl(cfg);
    const filters = watchFilters(prefix, { camera, topics });

    // stdout carries only messages; mqtt.js link logs go to stderr, and only errors unless the
    // user asked for debug: watch prints its own one-line notes on disconnect and reconnect.
    const verbose = cfg.log.level === 'debug' || cfg.log.level === 'trace';
    const log = createLogger({
      level: verbose ? cfg.log.level : cfg.log.level === 'silent' ? 'silent' : 'error',
      format: 'json',
      destination: ctx.stderr,
    });
    const opts = mqttOptionsFrom(
      cfg.mqtt,
      url,
      cfg.mqtt.clientId || `facegate-watch-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    );

    let finish: (code: number) => void = () => undefined;
    const finished = new Promise<number>((resolve) => (finish = resolve));
    const onSignal = (): void => finish(0);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // `facegate watch | head` closes our stdout: that is the reader saying enough, not an error.
    const onStdoutError = (err: NodeJS.ErrnoException): void => finish(err.code === 'EPIPE' ? 0 : 1);
    ctx.stdout.on('error', onStdoutError);

    const link = connectMqtt(opts, log);
    let shown = 0;
    const tally: CatalogTally = new Map();
    let stopping = false;
    link.onMessage((topic, payload, retained) => {
      if (count !== undefined && shown >= count) return;
      if (!wanted(topic, prefix, camera)) return;
      const m: Received = { topic, payload, retained, at: Date.now() };
      ctx.stdout.write((json ? jsonLine(m, prefix) : readableLine(m, prefix, tally)) + '\n');
      shown++;
      if (count !== undefined && shown >= count) finish(0);
    });
    try {
      const connected = link.waitConnected(timeoutS * 1000).then(() => -1);
      connected.catch(() => undefined); // the race below reports it; a signal may have won first
      const first = await Promise.race([connected, finished]);
      if (first !== -1) return first; // a signal while connecting
      // QoS 0: a viewer needs no acknowledgements, and TCP already keeps order and delivery.
      try {
        await link.subscribe(filters, 0);
      } catch (err) {
        throw FACEGATE_ERR_BROKER(
          `mqtt: the broker at ${redactUrl(url)} refused the subscription: ${(err as Error).message.split('\n')[0]}`,
        );
      }
      ctx.stderr.write(`facegate watch: ${filters.join(', ')} on ${redactUrl(url)}\n`);
      let lost = false;
      link.on('offline', () => {
        if (stopping) return;
        lost = true;
        ctx.stderr.write('facegate watch: connection to the broker lost; reconnecting\n');
      });
      link.on('connect', () => {
        if (lost) ctx.stderr.write('facegate watch: reconnected\n');
        lost = false;
      });
      return await finished;
    } finally {
      stopping = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      ctx.stdout.off('error', onStdoutError);
      await link.close({ force: true, timeoutMs: 1000 });
    }
  },
};
