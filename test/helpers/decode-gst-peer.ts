// Starts test/helpers/gst-rtsp-peer.py (GStreamer's RTSP server with live test sources) for the
// decode tests. Needs Debian's /usr/bin/python3 with python3-gi and gir1.2-gst-rtsp-server-1.0.
import { spawn, type ChildProcess } from 'node:child_process';
import { requireTools } from './tools.ts';
import { fileURLToPath } from 'node:url';

import { SYSTEM_PYTHON } from '../system-deps.ts';
const SCRIPT = fileURLToPath(new URL('./gst-rtsp-peer.py', import.meta.url));

export interface GstPeer {
  port: number;
  securePort: number;
  url(i: number): string;
  secureUrl(user: string, pass: string): string;
  stall(path: string): void;
  resume(path: string): void;
  close(): Promise<void>;
}

export async function startGstPeer(opts: {
  cameras: number;
  width?: number;
  height?: number;
  fps?: number;
  gop?: number;
}): Promise<GstPeer> {
  requireTools('gst-rtsp-server-python', 'gstreamer');
  const args = [SCRIPT, '--cameras', String(opts.cameras)];
  if (opts.width) args.push('--width', String(opts.width));
  if (opts.height) args.push('--height', String(opts.height));
  if (opts.fps) args.push('--fps', String(opts.fps));
  if (opts.gop) args.push('--gop', String(opts.gop));
  const child: ChildProcess = spawn(SYSTEM_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 4000) err += d.toString();
  });
  const ports = await new Promise<[number, number]>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`gst peer did not start: ${err}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+) (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve([Number(m[1]), Number(m[2])]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gst peer exited ${code}: ${err}`));
    });
  });
  const [port, securePort] = ports;
  return {
    port,
    securePort,
    url: (i) => `rtsp://127.0.0.1:${port}/cam/${i}`,
    secureUrl: (user, pass) => `rtsp://${user}:${pass}@127.0.0.1:${securePort}/secure/0`,
    stall: (path) => void child.stdin?.write(`stall ${path}\n`),
    resume: (path) => void child.stdin?.write(`resume ${path}\n`),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(t);
    },
  };
}
