// The one file that imports fluent-ffmpeg (archived upstream, so it stays behind this adapter).
// It also picks the ffmpeg binary: the configured path, else the system's, else the static build
// that the optional npm package @ffmpeg-installer/ffmpeg ships.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { accessSync, constants } from 'node:fs';
import fluent from 'fluent-ffmpeg';
import { FACEGATE_ERR_FFMPEG } from './errors.ts';

export type FfmpegCommand = fluent.FfmpegCommand;

export interface FfmpegBinary {
  path: string;
  source: 'config' | 'system' | 'bundled';
  /** e.g. "6.1.1" or "N-46..." for the 2018 static build. */
  version: string;
  /** ffmpeg >= 5.1 knows -fps_mode; older builds need -vsync 0. */
  hasFpsMode: boolean;
}

function onPath(name: string, pathEnv: string): string | undefined {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function bundledPath(): string | undefined {
  try {
    const req = createRequire(import.meta.url);
    const mod = req('@ffmpeg-installer/ffmpeg') as { path?: string };
    return mod.path;
  } catch {
    return undefined;
  }
}

function probeVersion(path: string): { version: string; hasFpsMode: boolean } {
  const r = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0)
    throw FACEGATE_ERR_FFMPEG(
      `ffmpeg at ${path} does not run: ${r.error?.message ?? r.stderr.split('\n')[0]}`,
    );
  const version = /ffmpeg version (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
  const m = /^(\d+)\.(\d+)/.exec(version);
  const hasFpsMode = m ? Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 1) : false;
  return { version, hasFpsMode };
}

/**
 * Finds ffmpeg once. `configured` is cfg.ffmpeg.path; `pathEnv` is the PATH to search
 * (passed in so that modules never read process.env).
 */
export function resolveFfmpeg(configured: string, pathEnv: string): FfmpegBinary {
  const { path, source } = locateFfmpeg(configured, pathEnv);
  return { path, source, ...probeVersion(path) };
}

/** The first of: the configured path, ffmpeg on PATH, the bundled build. */
function locateFfmpeg(configured: string, pathEnv: string): Pick<FfmpegBinary, 'path' | 'source'> {
  if (configured) return { path: configured, source: 'config' };
  const system = onPath('ffmpeg', pathEnv);
  if (system) return { path: system, source: 'system' };
  const bundled = bundledPath();
  if (bundled) return { path: bundled, source: 'bundled' };
  throw FACEGATE_ERR_FFMPEG(
    'ffmpeg not found: install ffmpeg (apt-get install ffmpeg) or reinstall with optional dependencies',
  );
}

/** A fluent-ffmpeg command bound to the chosen binary. */
export function ffmpegCommand(bin: FfmpegBinary, input?: string): FfmpegCommand {
  const cmd = input === undefined ? fluent() : fluent(input);
  cmd.setFfmpegPath(bin.path);
  return cmd;
}

/**
 * The argument list fluent-ffmpeg builds for a command, for callers that must spawn ffmpeg
 * themselves (extra pipes beyond pipe:1, which fluent-ffmpeg cannot give).
 */
export function commandArgs(cmd: FfmpegCommand): string[] {
  const internal = cmd as unknown as { _getArguments(): string[] };
  return internal._getArguments();
}

/** Spawns ffmpeg with an argument list and extra stdio (fd 3, 4, ... for many outputs). */
export function spawnFfmpeg(
  bin: FfmpegBinary,
  args: readonly string[],
  stdio: StdioOptions = ['ignore', 'pipe', 'pipe'],
): ChildProcess {
  return spawn(bin.path, ['-hide_banner', '-nostdin', ...args], { stdio });
}

/** Output option that stops ffmpeg from duplicating frames to keep a constant rate. */
export function passthroughTiming(bin: FfmpegBinary): string[] {
  return bin.hasFpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', '0'];
}

/** Encodes one packed RGB24 picture as JPEG with ffmpeg (for small, rare images: face crops). */
export function encodeJpeg(
  bin: FfmpegBinary,
  rgb: Buffer,
  width: number,
  height: number,
  timeoutMs = 5000,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const args = [
      '-loglevel',
      'error',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-i',
      'pipe:0',
      '-frames:v',
      '1',
      '-q:v',
      '5',
      '-f',
      'mjpeg',
      'pipe:1',
    ];
    const p = spawnFfmpeg(bin, args, ['pipe', 'pipe', 'pipe']);
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout?.on('data', (d: Buffer) => out.push(d));
    p.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && out.length) resolve(Buffer.concat(out));
      else reject(new Error(`jpeg encode failed (${code}): ${err.trim().split('\n')[0] ?? ''}`));
    });
    p.stdin?.on('error', () => undefined); // the process may exit first; 'close' reports it
    p.stdin?.end(rgb);
  });
}
