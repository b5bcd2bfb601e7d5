// The live view of `facegate up`: cameras online, face events per second, the last events and
// each gateway's CPU and memory. Redrawn in place on a terminal; one log line per tick otherwise.
import type { Logger } from '../shared/log.ts';
import type { FaceEvent } from '../contract/faces.ts';
import type { GatewayStats } from '../contract/stats.ts';

export interface SummaryGateway {
  id: string;
  stats(): GatewayStats;
}

export interface SummarySnapshot {
  camerasOnline: number;
  camerasTotal: number;
  eventsPerS: number;
  eventsTotal: number;
  last: Array<{ ts: string; cameraId: string; type: string; score: number }>;
  gateways: Array<{ id: string; cameras: number; cpuPercent: number; rssMb: number }>;
}

export interface SummaryOptions {
  everyMs: number;
  /** How many recent events to show. */
  lastN?: number;
  /** Total cameras in the city (for "online/total"). */
  camerasTotal: () => number;
  gateways: () => readonly SummaryGateway[];
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  log: Logger;
}

export interface Summary {
  /** Feed every face event here (the gateways' onEvent). */
  onEvent(ev: FaceEvent): void;
  snapshot(): SummarySnapshot;
  close(): void;
}

/** The block drawn on a terminal, one string per line. */
export function formatSummary(s: SummarySnapshot, now: Date = new Date()): string[] {
  const lines = [
    `facegate up  ${now.toISOString().slice(11, 19)}  cameras online ${s.camerasOnline}/${s.camerasTotal}  faces ${s.eventsPerS.toFixed(1)}/s (${s.eventsTotal} events)`,
    '  gateway            cameras   cpu %    rss MB',
    ...s.gateways.map(
      (g) =>
        `  ${g.id.padEnd(18)} ${String(g.cameras).padStart(7)} ${g.cpuPercent.toFixed(1).padStart(7)} ${g.rssMb.toFixed(1).padStart(9)}`,
    ),
    '  last events:',
  ];
  if (s.last.length === 0) lines.push('    (none yet)');
  for (const e of s.last)
    lines.push(
      `    ${e.ts.slice(11, 23)}  cam ${e.cameraId}  ${e.type.padEnd(6)} score ${e.score.toFixed(2)}`,
    );
  return lines;
}

export function createSummary(opts: SummaryOptions): Summary {
  const lastN = opts.lastN ?? 5;
  const last: FaceEvent[] = [];
  let total = 0;
  let totalAtTick = 0;
  let tickAt = Date.now();
  let rate = 0;
  let drawn = 0;

  const snapshot = (): SummarySnapshot => {
    const gws = opts.gateways().map((g) => ({ id: g.id, st: g.stats() }));
    return {
      camerasOnline: gws.reduce((n, g) => n + g.st.cameras.online, 0),
      camerasTotal: opts.camerasTotal(),
      eventsPerS: rate,
      eventsTotal: total,
      last: last.map((e) => ({ ts: e.ts, cameraId: e.cameraId, type: e.type, score: e.score })),
      gateways: gws.map((g) => ({
        id: g.id,
        cameras: g.st.cameras.assigned,
        cpuPercent: g.st.cpuPercent,
        rssMb: g.st.rssMb,
      })),
    };
  };

  const tick = (): void => {
    const now = Date.now();
    const span = (now - tickAt) / 1000;
    rate = span > 0 ? (total - totalAtTick) / span : 0;
    totalAtTick = total;
    tickAt = now;
    const s = snapshot();
    if (opts.stream.isTTY) {
      const lines = formatSummary(s);
      // Move up over the previous block, clear to the end of the screen, draw again.
      const up = drawn > 0 ? `\x1b[${drawn}A\r\x1b[0J` : '';
      opts.stream.write(up + lines.join('\n') + '\n');
      drawn = lines.length;
    } else {
      opts.log.info(
        {
          camerasOnline: s.camerasOnline,
          cameras: s.camerasTotal,
          eventsPerS: Math.round(s.eventsPerS * 10) / 10,
          events: s.eventsTotal,
          last: s.last.map((e) => `${e.ts.slice(11, 23)} ${e.cameraId} ${e.type} ${e.score.toFixed(2)}`),
          gateways: s.gateways.map((g) => `${g.id} cams=${g.cameras} cpu=${g.cpuPercent}% rss=${g.rssMb}MB`),
        },
        'summary',
      );
    }
  };
  const timer = setInterval(tick, opts.everyMs);
  timer.unref();

  return {
    onEvent(ev) {
      total++;
      last.push(ev);
      if (last.length > lastN) last.splice(0, last.length - lastN);
    },
    snapshot,
    close() {
      clearInterval(timer);
    },
  };
}
