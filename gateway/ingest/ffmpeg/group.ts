// One ffmpeg process decoding several cameras: input i writes raw frames to fd 3 + i, each pipe
// sliced by its own frame reader. The group knows nothing of restarts; the supervisor decides.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnFfmpeg, type FfmpegBinary } from '../../../shared/ffmpeg.ts';
import type { Logger } from '../../../shared/log.ts';
import { buildDecoderArgs, type ArgsOptions, type DecoderCaps } from './args.ts';
import { createFrameReader } from '../frame-reader.ts';
import { stopProcess } from '../process-stop.ts';
import { createStderrTail } from '../stderr-tail.ts';

export interface GroupCamera {
  id: string;
  url: string;
}

export interface GroupOptions {
  bin: FfmpegBinary;
  caps: DecoderCaps;
  args: ArgsOptions;
  cameras: readonly GroupCamera[];
  /** stderr lines kept (the last N), for classification and logs. */
  stderrLines: number;
  /** SIGTERM, then SIGKILL after this long. */
  killTimeoutMs: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string[];
}

export interface GroupEvents {
  onFrame(index: number, rgb: Buffer): void;
  /** Input `index` ended (its pipe closed) while the process kept running for the others. */
  onCameraEnd(index: number): void;
  /** Called once, also after close(). */
  onExit(info: ExitInfo): void;
}

export interface DecoderGroup {
  readonly pid: number | undefined;
  readonly cameras: readonly GroupCamera[];
  readonly startedAt: number;
  /** Wall-clock ms of the last frame of any camera (startedAt before the first). */
  lastFrameAt(): number;
  stderrTail(): string[];
  /** stderr lines that fell out of the tail. */
  stderrDropped(): number;
  exited(): boolean;
  /** Stops delivering frames at once; resolves when the process is gone (bounded). */
  close(): Promise<void>;
}

// A pipe that ends just before the process exits is part of the exit, not one camera ending.
const END_GRACE_MS = 300;

export function startGroup(o: GroupOptions, ev: GroupEvents, log: Logger): DecoderGroup {
  const n = o.cameras.length;
  const frameBytes = o.args.width * o.args.height * 3;
  const args = buildDecoderArgs(
    o.bin,
    o.caps,
    o.cameras.map((c) => c.url),
    o.args,
  );
  const stdio: StdioOptions = [
    'ignore',
    'ignore',
    'pipe',
    ...Array.from({ length: n }, () => 'pipe' as const),
  ];
  const child: ChildProcess = spawnFfmpeg(o.bin, args, stdio);
  const startedAt = Date.now();
  let lastFrame = startedAt;
  let closing = false;
  let hasExited = false;
  let exitPromise: Promise<void> | undefined;
  const tail = createStderrTail(o.stderrLines, child.stderr);
  const timers = new Set<NodeJS.Timeout>();

  for (let i = 0; i < n; i++) {
    const pipe = child.stdio[3 + i] as Readable | null | undefined;
    if (!pipe) continue;
    const reader = createFrameReader(frameBytes, (rgb) => {
      if (closing) return;
      lastFrame = Date.now();
      ev.onFrame(i, rgb);
    });
    pipe.on('data', (chunk: Buffer) => reader.push(chunk));
    pipe.on('error', () => {
      // EPIPE/ECONNRESET when the process dies: the exit handler reports it.
    });
    pipe.on('end', () => {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!closing && !hasExited) ev.onCameraEnd(i);
      }, END_GRACE_MS);
      timers.add(t);
    });
  }

  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      log.error({ err }, 'ffmpeg failed to start');
      tail.add(`spawn error: ${err.message}`);
      if (child.pid === undefined) finish(null, null);
    });
    child.once('exit', (code, signal) => finish(code, signal));
    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      if (hasExited) return;
      hasExited = true;
      tail.end();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      resolve();
      ev.onExit({ code, signal, stderr: tail.lines() });
    }
  });

  function close(): Promise<void> {
    closing = true;
    if (exitPromise !== undefined) return exitPromise;
    exitPromise = hasExited ? Promise.resolve() : stopProcess(child, exited, o.killTimeoutMs);
    return exitPromise;
  }

  return {
    pid: child.pid,
    cameras: o.cameras,
    startedAt,
    lastFrameAt: () => lastFrame,
    stderrTail: () => tail.lines(),
    stderrDropped: () => tail.dropped(),
    exited: () => hasExited,
    close,
  };
}
