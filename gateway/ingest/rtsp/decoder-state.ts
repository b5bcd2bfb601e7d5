// The state a pooled keyframe decoder shares with its pool (decoder-pool.ts): one Decoder per
// process slot, restarted as often as needed (a new generation each time), and the pool context
// its process and stop-and-wait code (decoder-proc.ts, decoder-step.ts) work in.
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import type { FfmpegBinary } from '../../../shared/ffmpeg.ts';
import type { Logger } from '../../../shared/log.ts';
import type { StderrTail } from '../stderr-tail.ts';

export interface PoolEvents {
  onFrame(cameraId: string, rgb: Buffer, captureTs: number, pid: number | undefined): void;
  /** A unit gave no frame (timed out, decoder gone, or closed empty): whoever waits for it can stop. */
  onLost?(cameraId: string, captureTs: number): void;
}

export interface PoolCounters {
  submitted: number;
  decoded: number;
  /** A newer keyframe of the same camera replaced one still waiting (latest wins). */
  superseded: number;
  /** Every decoder queue was full. */
  queueFull: number;
  /** In flight when its decoder timed out, desynced, exited or was removed. */
  lost: number;
  timeouts: number;
  /** Frames that came with no unit in flight. */
  desyncs: number;
  restarts: number;
  /** Waiting units of cameras that left (forget()). */
  forgotten: number;
  /** Sync units that brought a decoder back in step without a restart. */
  syncs: number;
  /** Frames thrown away while syncing (late frames of a timed-out unit) or extra pictures. */
  discarded: number;
  /** Strict decoders: units closed by their sync picture without a picture of their own. */
  empty: number;
}

export const zeroCounters = (): PoolCounters => ({
  submitted: 0,
  decoded: 0,
  superseded: 0,
  queueFull: 0,
  lost: 0,
  timeouts: 0,
  desyncs: 0,
  restarts: 0,
  forgotten: 0,
  syncs: 0,
  discarded: 0,
  empty: 0,
});

export interface Entry {
  cameraId: string;
  data: Buffer;
  captureTs: number;
  /** Pictures in the unit (a GOP for a catch-up); the frame of the last one is delivered. */
  pictures: number;
  /** Frames already out for it (the ones before the last are discarded). */
  got: number;
}

export interface Decoder {
  index: number;
  gen: number;
  proc: ChildProcess | undefined;
  stdin: Writable | undefined;
  queue: Entry[];
  inFlight: Entry | undefined;
  timer: NodeJS.Timeout | undefined;
  timerDue: number;
  /** A sync unit is in flight: frames are discarded until its picture comes. */
  syncing: boolean;
  /** Every unit is followed by a sync unit (the quarantine decoder). */
  strict: boolean;
  /** Strict: the unit in flight has had its frame. */
  delivered: boolean;
  /** Camera of the last frame delivered: blamed for a desync. */
  lastCamera: string | undefined;
  /** The first unit of a generation gets the start-up grace. */
  firstOfGen: boolean;
  startedAt: number;
  attempt: number;
  restartTimer: NodeJS.Timeout | undefined;
  removed: boolean;
  tail: StderrTail | undefined;
  tailDropped: number;
  exited: Promise<void> | undefined;
}

export function makeDecoder(index: number): Decoder {
  return {
    index,
    gen: 0,
    proc: undefined,
    stdin: undefined,
    queue: [],
    inFlight: undefined,
    timer: undefined,
    timerDue: 0,
    syncing: false,
    strict: false,
    delivered: false,
    lastCamera: undefined,
    firstOfGen: true,
    startedAt: 0,
    attempt: 0,
    restartTimer: undefined,
    removed: false,
    tail: undefined,
    tailDropped: 0,
    exited: undefined,
  };
}

/** What the process and stop-and-wait code of every decoder of one pool share. */
export interface PoolContext {
  ffmpeg: FfmpegBinary;
  args: string[];
  frameBytes: number;
  auTimeoutMs: number;
  startGraceMs: number;
  killTimeoutMs: number;
  backoff: { baseMs: number; maxMs: number };
  stderrLines: number;
  /** The access unit delimiter and sync unit of the pool's codec. */
  aud: Buffer;
  syncUnit: Buffer;
  c: PoolCounters;
  ev: PoolEvents;
  log: Logger;
  /** Each camera's unit waiting in a queue (at most one). */
  waiting: Map<string, Entry>;
  closed(): boolean;
  /** A timeout (or desync) blamed on a camera. */
  strike(cameraId: string): void;
}
