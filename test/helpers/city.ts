// Small configurations for tests that run the real simulator and gateway.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.ts';
import type { Config } from '../../config/schema.ts';
import { resolveFfmpeg, type FfmpegBinary } from '../../shared/ffmpeg.ts';
import { requireTools } from './tools.ts';

/** Scenes rendered once per machine for all tests (cached by their parameters). */
export const testSceneCache = join(tmpdir(), 'facegate-test-scenes');

export function testConfig(sets: string[] = []): Config {
  return loadConfig({
    sets: [
      'city.scenes=2',
      'city.sceneSeconds=20',
      'city.cameras=4',
      'simulator.port=0',
      'http.port=0',
      'console.port=0',
      'broker.port=0',
      `simulator.cacheDir=${testSceneCache}`,
      'log.level=silent',
      ...sets,
    ],
  });
}

export function systemFfmpeg(): FfmpegBinary {
  requireTools('ffmpeg');
  return resolveFfmpeg('', process.env['PATH'] ?? '');
}
