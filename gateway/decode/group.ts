// One ffmpeg process decoding several cameras: input i writes raw frames to fd 3 + i, each pipe
// sliced by its own frame reader. The group knows nothing of restarts; the supervisor decides.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import type { Readable } from 'node:stream';
import { spawnFfmpeg, type FfmpegBinary } from '../../shared/ffmpeg.ts';
import type { Logger } from '../../shared/log.ts';
import { buildDecoderArgs, type ArgsOptions, type DecoderCaps } from './args.ts';
import { createFrameReader } from './frame-reader.ts';

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

const MAX_LINE = 400;
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
  const tail: string[] = [];
  let dropped = 0;
  let partial = '';
  const timers = new Set<NodeJS.Timeout>();

  function addLine(line: string): void {
    if (!line) return;
    tail.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
    if (tail.length > o.stderrLines) {
      tail.shift();
      dropped++;
    }
  }

  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    const parts = (partial + s).split(/\r?\n|\r/);
    partial = (parts.pop() ?? '').slice(0, MAX_LINE * 4);
    for (const p of parts) addLine(p.trim());
  });

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
      addLine(`spawn error: ${err.message}`);
      if (child.pid === undefined) finish(null, null);
    });
    child.once('exit', (code, signal) => finish(code, signal));
    function finish(code: number | null, signal: NodeJS.Signals | null): void {
      if (hasExited) return;
      hasExited = true;
      addLine(partial.trim());
      partial = '';
      for (const t of timers) clearTimeout(t);
      timers.clear();
      resolve();
      ev.onExit({ code, signal, stderr: [...tail] });
    }
  });

  function close(): Promise<void> {
    closing = true;
    if (exitPromise !== undefined) return exitPromise;
    exitPromise = (async () => {
      if (hasExited) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = await Promise.race([
        exited.then(() => true),
        new Promise<false>((r) => (timer = setTimeout(() => r(false), o.killTimeoutMs))),
      ]);
      clearTimeout(timer);
      if (killed) return;
      child.kill('SIGKILL');
      // SIGKILL cannot be ignored; the bound only guards against a lost exit event.
      await Promise.race([exited, new Promise<void>((r) => setTimeout(r, 2000).unref())]);
    })();
    return exitPromise;
  }

  return {
    pid: child.pid,
    cameras: o.cameras,
    startedAt,
    lastFrameAt: () => lastFrame,
    stderrTail: () => [...tail],
    stderrDropped: () => dropped,
    exited: () => hasExited,
    close,
  };
}
