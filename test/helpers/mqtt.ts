// Collects MQTT messages from a real broker for assertions.
import { connectMqtt, type MqttLink } from '../../shared/mqtt.ts';
import { createLogger } from '../../shared/log.ts';
import { waitFor } from './net.ts';

export interface Collected {
  topic: string;
  payload: string;
  retained: boolean;
  at: number;
}

export interface Collector {
  link: MqttLink;
  messages: Collected[];
  /** Messages whose topic matches the regexp, payloads parsed as JSON. */
  json<T = unknown>(topic: RegExp): T[];
  waitFor(pred: (m: Collected[]) => boolean, timeoutMs: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function collect(
  url: string,
  filters: string[],
  opts: { persistentSession?: boolean; clientId?: string } = {},
): Promise<Collector> {
  const link = connectMqtt(
    {
      url,
      clientId: opts.clientId ?? `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
      backoffMinMs: 100,
      backoffMaxMs: 1000,
      persistentSession: opts.persistentSession ?? false,
    },
    createLogger({ level: 'silent', format: 'json' }),
  );
  const messages: Collected[] = [];
  link.onMessage((topic, payload, retained) =>
    messages.push({ topic, payload: payload.toString(), retained, at: Date.now() }),
  );
  await link.waitConnected(10_000);
  await link.subscribe(filters, 1);
  return {
    link,
    messages,
    json<T>(topic: RegExp) {
      return messages.filter((m) => topic.test(m.topic)).map((m) => JSON.parse(m.payload) as T);
    },
    async waitFor(pred, timeoutMs, what = 'messages') {
      await waitFor(() => pred(messages), timeoutMs, what);
    },
    close: () => link.close({ force: true }),
  };
}
