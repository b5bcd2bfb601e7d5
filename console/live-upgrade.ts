// The live-view WebSocket: /live/<camera> upgrades only for a same-origin page with a session, and
// every view leaves an audit record (who watched which camera, from when until when) on MQTT.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../shared/log.ts';
import type { MqttLink } from '../shared/mqtt.ts';
import { badId, type LiveViewAudit } from '../contract/index.ts';
import type { ConsoleAuth } from './auth.ts';
import type { LiveViews } from './live.ts';
import { sameOrigin } from './http.ts';

export interface LiveUpgradeDeps {
  log: Logger;
  auth: Pick<ConsoleAuth, 'who'>;
  live: Pick<LiveViews, 'attach'>;
  link: Pick<MqttLink, 'publish'>;
  /** The topic audit records go to. */
  auditTopic: string;
}

/** Handles `server`'s upgrades; returns the WebSocket server so close() can end its clients. */
export function serveLiveViews(server: Server, d: LiveUpgradeDeps): WebSocketServer {
  const { log, auth, live, link } = d;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const m = /^\/live\/([^/?]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const id = m?.[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    if (id === undefined || badId(id) || !sameOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n');
      return;
    }
    const who = auth.who(req);
    if (who === undefined) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Who watched which camera, from when until when: one record as it starts, one as it stops.
      const from = new Date().toISOString();
      const address = req.socket.remoteAddress ?? '?';
      const audit = (until: string | null): void => {
        const rec: LiveViewAudit = { v: 1, who, camera: id, from, until, address };
        log.info(rec, until ? 'live view closed' : 'live view opened');
        link
          .publish(d.auditTopic, JSON.stringify(rec), { qos: 1 })
          .catch((err: Error) =>
            log.warn({ err: err.message, camera: id }, 'live view audit record not published'),
          );
      };
      audit(null);
      ws.once('close', () => audit(new Date().toISOString()));
      live.attach(ws, id);
    });
  });
  return wss;
}
