// Face events, a publisher with test settings, and the checks that the publisher tests share.
import { createPublisher, type Publisher, type PublisherOptions } from '../../gateway/publish/publisher.ts';
import { emptyGatewayStats } from '../../contract/stats.ts';
import type { FaceEvent } from '../../contract/faces.ts';
import { captureLogger } from './logs.ts';
import type { Collector } from './mqtt.ts';
import { waitFor } from './net.ts';

export const P = 'fgtest';

let n = 0;
export function faceEvent(cameraId: string, gatewayId = 'gw1'): FaceEvent {
  n++;
  return {
    v: 1,
    type: 'start',
    eventId: `ev-${process.pid}-${n}`,
    trackId: n,
    cameraId,
    gatewayId,
    ts: new Date().toISOString(),
    box: [10, 20, 40, 60],
    score: 0.9,
    frame: { width: 320, height: 240 },
  };
}

export function testPublisher(
  url: string,
  over: Partial<PublisherOptions> = {},
  log = captureLogger('silent').log,
): Publisher {
  return createPublisher(
    {
      gatewayId: 'gw1',
      prefix: P,
      mqtt: { url, backoffMinMs: 100, backoffMaxMs: 400 },
      outboxMax: 1000,
      messageExpiryS: 60,
      statsEveryS: 0,
      ...over,
    },
    { log, getStats: emptyGatewayStats },
  );
}

/** Event ids on the faces topics, in arrival order (duplicates included). */
export const eventIds = (c: Collector): string[] => c.json<FaceEvent>(/\/faces$/).map((e) => e.eventId);

/**
 * After a broker restart without persistence the subscriber must be back and subscribed before
 * events flow, or they go to nobody: a probe round trip proves it.
 */
export async function subscriberBack(sub: Collector, timeoutMs = 10_000): Promise<void> {
  let probe = 0;
  await waitFor(
    async () => {
      if (!sub.link.connected) return false;
      const id = `probe-${++probe}`;
      await sub.link
        .publish(`${P}/cameras/probe/faces`, JSON.stringify({ eventId: id }), { qos: 1 })
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      return eventIds(sub).includes(id);
    },
    timeoutMs,
    'the subscriber back and subscribed',
  );
}
