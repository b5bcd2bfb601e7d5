// One decoder pool per codec: an ffmpeg decoder reads one elementary stream format (`-f h264` or
// `-f hevc`), so H.265 cameras get their own pool, made when the first of them sends a keyframe.
// Outside, it looks like one pool: counters add up, decoders and pids are listed together.
import type { Logger } from '../../../shared/log.ts';
import {
  createDecoderPool,
  type DecoderInfo,
  type DecoderPool,
  type DecoderPoolOptions,
  type PoolCounters,
  type PoolEvents,
} from './decoder-pool.ts';
import type { StreamCodec } from './rtsp-client.ts';

export interface CodecPools {
  /** False when refused (its pool full or without a decoder): no frame will come. */
  submit(codec: StreamCodec, cameraId: string, au: Buffer, captureTs: number): boolean;
  submitGop(codec: StreamCodec, cameraId: string, units: readonly Buffer[], captureTs: number): boolean;
  pending(): number;
  forget(cameraId: string): void;
  /** Decoder processes per codec (a codec without cameras keeps its pool at one, or none yet). */
  resize(decoders: Partial<Record<StreamCodec, number>>): void;
  counters(): PoolCounters;
  decoders(): (DecoderInfo & { codec: StreamCodec })[];
  pids(): number[];
  close(): Promise<void>;
}

export function createCodecPools(
  o: Omit<DecoderPoolOptions, 'codec'>,
  ev: PoolEvents,
  log: Logger,
): CodecPools {
  const pools = new Map<StreamCodec, DecoderPool>();
  const wanted: Partial<Record<StreamCodec, number>> = { h264: o.decoders };
  const poolFor = (codec: StreamCodec): DecoderPool => {
    let p = pools.get(codec);
    if (!p) {
      p = createDecoderPool(
        { ...o, codec, decoders: Math.max(1, wanted[codec] ?? 1) },
        ev,
        log.child({ codec }),
      );
      pools.set(codec, p);
    }
    return p;
  };
  poolFor('h264');
  const all = (): [StreamCodec, DecoderPool][] => [...pools.entries()];
  return {
    submit: (codec, cameraId, au, ts) => poolFor(codec).submit(cameraId, au, ts),
    submitGop: (codec, cameraId, units, ts) => poolFor(codec).submitGop(cameraId, units, ts),
    pending: () => all().reduce((n, [, p]) => n + p.pending(), 0),
    forget: (cameraId) => {
      for (const [, p] of all()) p.forget(cameraId);
    },
    resize(decoders) {
      Object.assign(wanted, decoders);
      for (const [codec, p] of all()) p.resize(Math.max(1, wanted[codec] ?? 1));
    },
    counters() {
      const sum = {} as PoolCounters;
      for (const [, p] of all())
        for (const [k, v] of Object.entries(p.counters()) as [keyof PoolCounters, number][])
          sum[k] = (sum[k] ?? 0) + v;
      return sum;
    },
    decoders: () => all().flatMap(([codec, p]) => p.decoders().map((d) => ({ ...d, codec }))),
    pids: () => all().flatMap(([, p]) => p.pids()),
    close: async () => {
      await Promise.all(all().map(([, p]) => p.close()));
    },
  };
}
