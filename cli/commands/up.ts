import type { Command } from '../command.ts';
import type { Config } from '../../config/schema.ts';
import { createSimulator } from '../../simulator/index.ts';
import { createGateway, type Gateway } from '../../gateway/index.ts';
import { startEmbeddedBroker } from '../../shared/broker.ts';
import { untilSignal, type Closable } from '../lifecycle.ts';
import { findFfmpeg } from '../runtime.ts';
import { progressReporter } from '../progress.ts';
import { createSummary } from '../summary.ts';
import { createConsole } from '../../console/server.ts';

/** The configuration of the n-th (1-based) in-process gateway: a distinct id, /metrics on the first only. */
export function gatewayConfig(cfg: Config, n: number): Config {
  const base = cfg.gateway.id || 'gw';
  return { ...cfg, gateway: { ...cfg.gateway, id: `${base}-${n}` } };
}

function hostForUrl(host: string): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return h.includes(':') ? `[${h}]` : h;
}

export const upCommand: Command = {
  name: 'up',
  summary: 'run the whole city in one process: MQTT broker, simulator and gateways (npm start)',
  usage: `facegate up [--cameras N] [--gateways N] [--mqtt-url URL]

Starts the embedded MQTT broker on broker.host:broker.port (unless mqtt.url is given), the RTSP
simulator and city.gateways gateways (ids gw-1, gw-2, ... or <gateway.id>-1 ...), which share the
cameras. Shows a live summary every 2 s; Ctrl-C stops gateways, simulator, then broker.`,
  flags: [
    { name: 'cameras', type: 'string', path: 'city.cameras', help: 'number of cameras' },
    { name: 'gateways', type: 'string', path: 'city.gateways', help: 'number of in-process gateways' },
    {
      name: 'mqtt-url',
      type: 'string',
      path: 'mqtt.url',
      help: 'external MQTT broker (default: embedded aedes)',
    },
    {
      name: 'broker-port',
      type: 'string',
      path: 'broker.port',
      help: 'embedded broker port (0: any free port)',
    },
    {
      name: 'http-port',
      type: 'string',
      path: 'http.port',
      help: '/metrics port of the first gateway (0: any free port)',
    },
  ],
  async run(ctx) {
    const cfg = ctx.config();
    const log = ctx.logger(cfg);
    const ffmpeg = findFfmpeg(cfg, ctx.env, log);

    // Everything started so far, in start order; shutdown goes the other way round.
    const started: Closable[] = [];
    const gateways: Gateway[] = [];
    let stopping = false;
    const exit = untilSignal(
      () => {
        stopping = true;
        return [...started].reverse();
      },
      { timeoutMs: 12_000, log },
    );
    /** Registers a started component; false when a signal came meanwhile (it is closed at once). */
    const add = async (item: Closable): Promise<boolean> => {
      if (stopping) {
        await item.close();
        return false;
      }
      started.push(item);
      return true;
    };

    try {
      let mqttUrl = cfg.mqtt.url;
      if (!mqttUrl) {
        const broker = await startEmbeddedBroker(
          { host: cfg.broker.host, port: cfg.broker.port },
          log.child({ component: 'broker' }),
        );
        mqttUrl = broker.url;
        if (!(await add({ name: 'broker', close: () => broker.close() }))) return await exit;
      }
      const sim = await createSimulator(cfg, {
        log,
        ffmpeg,
        mqttUrl,
        onProgress: progressReporter('rendering scenes', ctx.stderr, log),
      });
      if (!(await add({ name: 'simulator', close: () => sim.close() }))) return await exit;

      const summary = createSummary({
        everyMs: 2000,
        camerasTotal: () => sim.fleet.count(),
        gateways: () => gateways,
        stream: ctx.stdout,
        log,
      });
      if (!(await add({ name: 'summary', close: () => summary.close() }))) return await exit;
      const gwItem: Closable = {
        name: 'gateways',
        close: async () => void (await Promise.allSettled(gateways.map((g) => g.close()))),
      };
      if (!(await add(gwItem))) return await exit;
      for (let n = 1; n <= cfg.city.gateways; n++) {
        const gw = await createGateway(gatewayConfig(cfg, n), {
          log,
          ffmpeg,
          mqttUrl,
          http: n === 1,
          onEvent: (ev) => summary.onEvent(ev),
        });
        if (stopping) {
          await gw.close();
          return await exit;
        }
        gateways.push(gw);
      }

      // The web console last, so it closes first; one that cannot start is a warning, not a failed city.
      let consoleUrl = '(not started)';
      try {
        const con = await createConsole(cfg, { log, ffmpeg, mqttUrl });
        consoleUrl = con.url;
        if (!(await add({ name: 'console', close: () => con.close() }))) return await exit;
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'web console not started');
      }

      const first = gateways[0];
      const metrics =
        first && first.httpPort > 0
          ? `http://${hostForUrl(cfg.http.host)}:${first.httpPort}/metrics`
          : '(not served)';
      ctx.stdout.write(
        [
          `facegate up: ${sim.fleet.count()} cameras, ${gateways.length} gateway(s) (${gateways.map((g) => g.id).join(', ')})`,
          `  camera 000001  ${sim.url('000001')}`,
          `  MQTT broker    ${mqttUrl}`,
          `  metrics        ${metrics}`,
          `  console        ${consoleUrl}`,
          '  Ctrl-C to stop',
          '',
        ].join('\n'),
      );
    } catch (err) {
      // A failed start: stop what did start, newest first, then report the error.
      stopping = true;
      for (const item of [...started].reverse()) {
        try {
          await item.close();
        } catch (closeErr) {
          log.warn({ component: item.name, err: closeErr }, 'error while closing');
        }
      }
      throw err;
    }
    return exit;
  },
};
