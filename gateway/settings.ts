// What each part of the gateway is told from the config: the mapping kept apart from the assembly,
// so the wiring in index.ts reads as parts and their links only.
import type { Config } from '../config/schema.ts';
import type { DetectorPoolOptions } from './detect/pool.ts';
import type { PublisherOptions } from './publish/publisher.ts';
import type { TrackerOptions } from './tracker.ts';

export function detectorOptions(g: Config['gateway'], modelPath: string): DetectorPoolOptions {
  return {
    modelPath,
    threads: g.detectorThreads,
    intraOpThreads: g.detectorIntraOpThreads,
    scoreThreshold: g.scoreThreshold,
  };
}

export function trackerOptions(g: Config['gateway'], gatewayId: string): TrackerOptions {
  return {
    gatewayId,
    confirmHits: g.confirmHits,
    updateEveryS: g.updateEveryS,
    endAfterS: g.endAfterS,
    sweepAfterS: g.sweepAfterS,
  };
}

/** The broker: the configured url, else the one the caller runs (`facegate up`), else the local port. */
export function mqttUrlOf(cfg: Config, fallback: string | undefined): string {
  return cfg.mqtt.url || fallback || `mqtt://127.0.0.1:${cfg.broker.port}`;
}

export function publisherOptions(cfg: Config, gatewayId: string, mqttUrl: string): PublisherOptions {
  return {
    gatewayId,
    prefix: cfg.mqtt.prefix,
    mqtt: {
      ...cfg.mqtt,
      url: mqttUrl,
      clientId: cfg.mqtt.clientId ? `${cfg.mqtt.clientId}-${gatewayId}` : '',
      backoffMaxMs: cfg.mqtt.reconnectMaxS * 1000,
    },
    outboxMax: cfg.mqtt.outboxMax,
    messageExpiryS: cfg.mqtt.messageExpiryS,
    statsEveryS: cfg.gateway.statsEveryS,
  };
}
