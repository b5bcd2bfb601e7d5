// Bounded outbox for QoS 1 events. Pending = in flight (handed to mqtt.js, not yet acknowledged)
// + waiting here. mqtt.js keeps in-flight QoS 1 messages in its own store across reconnects, so
// only a window of them is handed over at a time and the rest waits here, under one bound.
// When full, the oldest waiting item goes: a face event is worth less the older it is.
import type { Logger } from '../../shared/log.ts';
import type { DropReason, OutboxStats } from '../../contract/stats.ts';

export type { DropReason, OutboxStats };

export interface OutboxOptions<T> {
  max: number;
  /** Items handed to the sender at once (default 64, at most max). */
  window?: number;
  send: (item: T) => Promise<void>;
  /** False while the link is down: items wait here instead of in mqtt.js' store. */
  canSend: () => boolean;
  /** Errors that will not go away by resending (an MQTT 5 reason code): drop instead of retry. */
  isPermanent?: (err: unknown) => boolean;
  log: Logger;
  now?: () => number;
  warnEveryMs?: number;
  retryMs?: number;
}

export interface Outbox<T> {
  push(item: T): void;
  /** Hand waiting items over; call when the link (re)connects. */
  pump(): void;
  /** Count an item refused before it was queued (bad topic), so nothing is dropped silently. */
  drop(reason: DropReason, n?: number): void;
  stats(): OutboxStats;
  /** Resolves true once nothing is pending, false at the deadline. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Abandons what is pending (counted as dropped: shutdown); returns how many. */
  close(): number;
}

interface Entry<T> {
  seq: number;
  at: number;
  item: T;
}

const hasReasonCode = (err: unknown): boolean => typeof (err as { code?: unknown } | null)?.code === 'number';

export function createOutbox<T>(o: OutboxOptions<T>): Outbox<T> {
  const now = o.now ?? Date.now;
  const window = Math.max(1, Math.min(o.window ?? 64, o.max));
  const warnEveryMs = o.warnEveryMs ?? 10_000;
  const isPermanent = o.isPermanent ?? hasReasonCode;
  // Waiting items in seq order: an array with a moving head, so shift() is O(1).
  let q: Entry<T>[] = [];
  let head = 0;
  const inflight = new Map<number, Entry<T>>();
  const droppedBy: Record<DropReason, number> = { overflow: 0, rejected: 0, invalid: 0, shutdown: 0 };
  let seq = 0;
  let published = 0;
  let closed = false;
  let unreported = 0;
  let lastWarn = -Infinity;
  let warnTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<(ok: boolean) => void>();

  const waitingCount = (): number => q.length - head;
  const pending = (): number => inflight.size + waitingCount();

  const settle = (): void => {
    if (pending() === 0) for (const w of [...waiters]) w(true);
  };

  // Never silent, never noisy: at most one line per period, carrying the count since the last.
  const reportDrops = (): void => {
    warnTimer = undefined;
    if (unreported === 0) return;
    lastWarn = now();
    o.log.warn(
      { dropped: unreported, droppedTotal: droppedBy.overflow, max: o.max },
      'event outbox full: dropped the oldest events',
    );
    unreported = 0;
  };

  const shiftWaiting = (): Entry<T> | undefined => {
    if (head >= q.length) return undefined;
    const e = q[head];
    q[head++] = undefined as unknown as Entry<T>; // release the item for GC
    if (head > 1024 && head * 2 > q.length) {
      q = q.slice(head);
      head = 0;
    }
    return e;
  };

  // A resent item goes back in front, in seq order, among the (few) others that came back.
  const requeue = (e: Entry<T>): void => {
    let i = head;
    while (i < q.length && (q[i] as Entry<T>).seq < e.seq) i++;
    if (i === head && head > 0) q[--head] = e;
    else q.splice(i, 0, e);
  };

  const scheduleRetry = (): void => {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      pump();
    }, o.retryMs ?? 1000);
    retryTimer.unref();
  };

  const sendOne = (e: Entry<T>): void => {
    inflight.set(e.seq, e);
    let p: Promise<void>;
    try {
      p = o.send(e.item);
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      () => {
        if (!inflight.delete(e.seq)) return;
        published++;
        pump();
        settle();
      },
      (err: unknown) => {
        if (!inflight.delete(e.seq)) return;
        if (isPermanent(err)) {
          droppedBy.rejected++;
          o.log.warn({ err: (err as Error).message }, 'broker rejected an event; dropped');
          pump();
          settle();
          return;
        }
        // "Connection closed": mqtt.js did not keep it, so it waits here for the next connection.
        requeue(e);
        scheduleRetry();
      },
    );
  };

  function pump(): void {
    while (!closed && inflight.size < window && waitingCount() > 0 && o.canSend()) {
      const e = shiftWaiting();
      if (e) sendOne(e);
    }
  }

  return {
    push(item) {
      if (closed) {
        droppedBy.shutdown++;
        return;
      }
      if (pending() >= o.max) {
        // In-flight items are already in mqtt.js' hands; with none waiting, the newcomer goes.
        if (waitingCount() > 0) shiftWaiting();
        droppedBy.overflow++;
        unreported++;
        if (!warnTimer) {
          const wait = lastWarn + warnEveryMs - now();
          if (wait <= 0) reportDrops();
          else {
            warnTimer = setTimeout(reportDrops, wait);
            warnTimer.unref();
          }
        }
        if (pending() >= o.max) return;
      }
      q.push({ seq: seq++, at: now(), item });
      pump();
    },
    pump,
    drop(reason, n = 1) {
      droppedBy[reason] += n;
    },
    stats() {
      let oldest = Infinity;
      for (const e of inflight.values()) {
        oldest = e.at; // Map order is send order, so the first is the oldest in flight
        break;
      }
      const w = q[head];
      if (w && w.at < oldest) oldest = w.at;
      const dropped = droppedBy.overflow + droppedBy.rejected + droppedBy.invalid + droppedBy.shutdown;
      return {
        published,
        pending: pending(),
        inflight: inflight.size,
        waiting: waitingCount(),
        dropped,
        droppedBy: { ...droppedBy },
        oldestPendingAgeMs: oldest === Infinity ? 0 : Math.max(0, now() - oldest),
        max: o.max,
      };
    },
    drain(timeoutMs) {
      if (pending() === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(t);
          waiters.delete(done);
          resolve(ok);
        };
        const t = setTimeout(() => done(false), timeoutMs);
        waiters.add(done);
      });
    },
    close() {
      if (closed) return 0;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (warnTimer) clearTimeout(warnTimer);
      reportDrops();
      const n = pending();
      droppedBy.shutdown += n;
      inflight.clear();
      q = [];
      head = 0;
      if (n > 0) o.log.warn({ dropped: n }, 'events not delivered before shutdown');
      for (const w of [...waiters]) w(n === 0);
      return n;
    },
  };
}
