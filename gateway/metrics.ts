// Prometheus metrics of one gateway. The only file that imports prom-client. A registry per gateway
// (several run in one process in tests and in `facegate up`), filled at scrape time from one stats
// snapshot through collect callbacks: nothing is updated per frame.
import { Counter, Gauge, Registry } from 'prom-client';
import type { StatsMessage } from '../contract/stats.ts';

export interface Metrics {
  readonly registry: Registry;
}

export const metricNames = [
  'facegate_uptime_seconds',
  'facegate_mqtt_connected',
  'facegate_cameras_assigned',
  'facegate_cameras_online',
  'facegate_frames_decoded_total',
  'facegate_frames_analysed_total',
  'facegate_frames_dropped_total',
  'facegate_frames_skipped_total',
  'facegate_catchup_total',
  'facegate_inference_seconds',
  'facegate_event_latency_seconds',
  'facegate_events_published_total',
  'facegate_events_dropped_total',
  'facegate_events_pending',
  'facegate_outbox_oldest_pending_seconds',
  'facegate_process_cpu_percent',
  'facegate_process_resident_memory_bytes',
] as const;

export function createMetrics(opts: { gatewayId: string }, getSnapshot: () => StatsMessage): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ gateway: opts.gatewayId });
  let snap: StatsMessage | undefined;
  const current = (): StatsMessage => (snap ??= getSnapshot());

  const gauge = (name: string, help: string, value: (s: StatsMessage) => number, first = false): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        // The registry collects in registration order: the first metric takes the scrape's snapshot.
        if (first) snap = getSnapshot();
        this.set(value(current()));
      },
    });
  };
  // A counter mirrors a total kept elsewhere: reset and add the total, labelled by reason if any.
  const counter = (
    name: string,
    help: string,
    value: (s: StatsMessage) => number | Record<string, number>,
  ): void => {
    new Counter({
      name,
      help,
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        this.reset();
        const v = value(current());
        if (typeof v === 'number') this.inc(v);
        else for (const [reason, n] of Object.entries(v)) this.inc({ reason }, n);
      },
    });
  };
  const quantiles = (
    name: string,
    help: string,
    value: (s: StatsMessage) => { p50: number; p95: number },
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: ['quantile'],
      registers: [registry],
      collect() {
        const q = value(current());
        this.set({ quantile: '0.5' }, q.p50 / 1000);
        this.set({ quantile: '0.95' }, q.p95 / 1000);
      },
    });
  };

  gauge('facegate_uptime_seconds', 'Seconds since the gateway started', (s) => s.uptimeS, true);
  gauge('facegate_mqtt_connected', '1 when the MQTT link is up', (s) => (s.mqtt.connected ? 1 : 0));
  gauge('facegate_cameras_assigned', 'Cameras this gateway handles', (s) => s.cameras.assigned);
  gauge('facegate_cameras_online', 'Assigned cameras delivering frames', (s) => s.cameras.online);
  counter('facegate_frames_decoded_total', 'Frames decoded', (s) => s.frames.decoded);
  counter('facegate_frames_analysed_total', 'Frames run through the face detector', (s) => s.frames.analysed);
  counter('facegate_frames_dropped_total', 'Frames not analysed, by reason', (s) => s.frames.dropped);
  counter('facegate_frames_skipped_total', 'Keyframes not decoded, by reason', (s) => s.frames.skipped);
  counter(
    'facegate_catchup_total',
    'GOPs decoded on activity onset, or refused (rate bound), by reason',
    (s) => ({
      decoded: s.frames.catchUp?.decoded ?? 0,
      refused: s.frames.catchUp?.refused ?? 0,
    }),
  );
  quantiles('facegate_inference_seconds', 'Detector time per frame (recent window)', (s) => s.inferenceMs);
  quantiles(
    'facegate_event_latency_seconds',
    'Capture to broker acknowledgement of start events (recent window)',
    (s) => s.eventLatencyMs,
  );
  counter(
    'facegate_events_published_total',
    'Face events acknowledged by the broker',
    (s) => s.events.published,
  );
  counter('facegate_events_dropped_total', 'Face events dropped, by reason', (s) => s.events.droppedBy);
  gauge('facegate_events_pending', 'Face events in flight or waiting in the outbox', (s) => s.events.pending);
  gauge(
    'facegate_outbox_oldest_pending_seconds',
    'Age of the oldest pending face event',
    (s) => s.events.oldestPendingAgeMs / 1000,
  );
  gauge('facegate_process_cpu_percent', 'Gateway CPU, 100 = one core', (s) => s.cpuPercent);
  gauge('facegate_process_resident_memory_bytes', 'Gateway resident memory', (s) => s.rssMb * 1024 * 1024);

  return { registry };
}
