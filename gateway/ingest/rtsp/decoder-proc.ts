// The process behind a pooled decoder: started, restarted with backoff after an exit of its own,
// recycled at once when its frame mapping is in doubt, and stopped (SIGTERM, then SIGKILL).
// Every start bumps the decoder's generation; output of an older process is ignored.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnFfmpeg } from '../../../shared/ffmpeg.ts';
import { backoffDelay } from '../backoff.ts';
import { createFrameReader } from '../frame-reader.ts';
import { stopProcess } from '../process-stop.ts';
import { createStderrTail } from '../stderr-tail.ts';
import type { Decoder, PoolContext } from './decoder-state.ts';
import { arm, dropInFlight, onDecodedFrame, pump } from './decoder-step.ts';

const MIN_RESPAWN_MS = 500;
/** After a decode error on stderr, the unit in flight gets this much longer (decoding takes ~5 ms). */
const ERROR_HINT_MS = 400;

export interface DecoderProcs {
  spawn(d: Decoder): void;
  recycle(d: Decoder, why: string): void;
  stop(d: Decoder): Promise<void>;
}

export function decoderProcs(p: PoolContext): DecoderProcs {
  function spawn(d: Decoder): void {
    if (p.closed() || d.removed) return;
    d.gen++;
    const gen = d.gen;
    d.firstOfGen = true;
    d.startedAt = Date.now();
    let child: ChildProcess;
    try {
      child = spawnFfmpeg(p.ffmpeg, p.args, ['pipe', 'pipe', 'pipe']);
    } catch (err) {
      p.log.error({ err }, 'decoder spawn failed');
      scheduleRestart(d);
      return;
    }
    d.proc = child;
    d.stdin = child.stdin ?? undefined;
    child.stdin?.on('error', () => {
      // EPIPE when the process dies: the exit handler accounts for it.
    });
    // A frame not delivered (discarded, a sync picture, an old process's) goes back to the reader.
    const reader = createFrameReader(p.frameBytes, (rgb) =>
      d.gen === gen ? !onDecodedFrame(p, d, rgb, recycle) : true,
    );
    const out = child.stdout as Readable | null;
    out?.on('data', (chunk: Buffer) => {
      if (d.gen === gen) reader.push(chunk);
    });
    out?.on('error', () => undefined);
    d.tailDropped += d.tail?.dropped() ?? 0;
    const tail = createStderrTail(p.stderrLines, child.stderr, () => {
      // A decode error ("no frame!", "concealing errors") is a hint, not a verdict: the frame may
      // still come (concealed). Waiting less long only speeds up the recycle of a unit that
      // yields nothing; the mapping stays exact either way.
      const e = d.inFlight;
      if (d.gen === gen && e && d.timerDue - Date.now() > ERROR_HINT_MS) arm(p, d, e, ERROR_HINT_MS, recycle);
    });
    d.tail = tail;
    d.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        tail.end();
        resolve();
        onExit(d, gen, code, signal);
      };
      child.once('error', (err) => {
        tail.add(`spawn error: ${err.message}`);
        if (child.pid === undefined) finish(null, null);
      });
      child.once('exit', finish);
    });
    pump(p, d, recycle);
  }

  function onExit(d: Decoder, gen: number, code: number | null, signal: NodeJS.Signals | null): void {
    if (d.gen !== gen) return; // an old generation we already replaced
    d.proc = undefined;
    d.stdin = undefined;
    clearTimeout(d.timer);
    d.timer = undefined;
    d.syncing = false;
    dropInFlight(p, d);
    if (p.closed() || d.removed) return;
    const stderr = d.tail?.lines().slice(-3) ?? [];
    p.log.warn({ decoder: d.index, code, signal, stderr }, 'decoder exited; restarting');
    if (Date.now() - d.startedAt > 10_000) d.attempt = 0;
    scheduleRestart(d);
  }

  function scheduleRestart(d: Decoder): void {
    if (p.closed() || d.removed || d.restartTimer) return;
    const wait = backoffDelay(d.attempt++, p.backoff);
    d.restartTimer = setTimeout(() => {
      d.restartTimer = undefined;
      p.c.restarts++;
      spawn(d);
    }, wait);
    d.restartTimer.unref();
  }

  /** Doubt about the frame mapping: the process goes, its queue (not yet written) stays. */
  function recycle(d: Decoder, why: string): void {
    p.log.debug({ decoder: d.index, why }, 'restarting decoder');
    clearTimeout(d.timer);
    d.timer = undefined;
    d.syncing = false;
    dropInFlight(p, d);
    const proc = d.proc;
    d.proc = undefined;
    d.stdin = undefined;
    d.gen++; // everything the old process still says is ignored
    if (proc) proc.kill('SIGKILL');
    p.c.restarts++;
    // At most one start per MIN_RESPAWN_MS per decoder: a stream of broken units must not turn
    // into a fork storm (a start costs ~50-70 ms CPU with Debian's ffmpeg). Waiting units stay queued.
    const wait = d.startedAt + MIN_RESPAWN_MS - Date.now();
    if (wait <= 0 || p.closed() || d.removed) {
      spawn(d);
      return;
    }
    clearTimeout(d.restartTimer);
    d.restartTimer = setTimeout(() => {
      d.restartTimer = undefined;
      spawn(d);
    }, wait);
    d.restartTimer.unref();
  }

  function stop(d: Decoder): Promise<void> {
    d.removed = true;
    clearTimeout(d.timer);
    clearTimeout(d.restartTimer);
    d.timer = undefined;
    d.restartTimer = undefined;
    const proc = d.proc;
    const exited = d.exited;
    d.gen++;
    d.proc = undefined;
    d.stdin = undefined;
    if (!proc || !exited) return Promise.resolve();
    proc.stdin?.end();
    return stopProcess(proc, exited, p.killTimeoutMs, 1000);
  }

  return { spawn, recycle, stop };
}
