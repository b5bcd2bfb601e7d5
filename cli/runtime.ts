// Pieces every long-running command needs: the ffmpeg binary, logged once.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';
import { resolveFfmpeg, type FfmpegBinary } from '../shared/ffmpeg.ts';

export function findFfmpeg(cfg: Config, env: Record<string, string | undefined>, log: Logger): FfmpegBinary {
  const bin = resolveFfmpeg(cfg.ffmpeg.path, env['PATH'] ?? '');
  log.info({ ffmpeg: bin.path, source: bin.source, version: bin.version }, 'using ffmpeg');
  return bin;
}
