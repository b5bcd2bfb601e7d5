// A real MQTT broker for tests: mosquitto when installed (as in CI), else aedes in-process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.ts';
import { startEmbeddedBroker } from '../../shared/broker.ts';
import { createLogger } from '../../shared/log.ts';

export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  port: number;
  url: string;
  /** mosquitto only: the process, for kill/restart tests. */
  proc?: ChildProcess;
  /** Stops the broker (SIGKILL for mosquitto when hard). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (mosquitto only). */
  restart(): Promise<void>;
}

export function mosquittoPath(): string | undefined {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'])
    if (existsSync(p)) return p;
  return undefined;
}

export interface MosquittoOptions {
  /** Extra lines for mosquitto.conf (listener options, auth, TLS). */
  extraConf?: string[];
  persistence?: boolean;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<TestBroker> {
  const bin = mosquittoPath();
  if (!bin) throw new Error('mosquitto is not installed (apt-get install mosquitto)');
  const dir = mkdtempSync(join(tmpdir(), 'facegate-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`, ...(opts.extraConf ?? ['allow_anonymous true'])];
  // Started as root, mosquitto drops to the user `mosquitto`, which cannot write the database into
  // our 0700 temp dir (it says so only in its log): stay the user we are.
  if (opts.persistence)
    lines.push(
      'persistence true',
      `persistence_location ${dir}/`,
      'autosave_interval 1',
      `user ${userInfo().username}`,
    );
  lines.push('max_queued_messages 100000', 'log_dest none');
  writeFileSync(conf, lines.join('\n') + '\n');
  let proc: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    proc = spawn(bin, ['-c', conf], { stdio: 'ignore' });
    broker.proc = proc;
    await waitForPort(port, 10_000);
  };
  const kill = async (hard: boolean): Promise<void> => {
    const p = proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(hard ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  const broker: TestBroker = {
    kind: 'mosquitto',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    async stop(hard = false) {
      await kill(hard);
      // A hard stop simulates a crash: keep the config (and persistence) for restart().
      if (!hard) rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await kill(false);
      await launch();
    },
  };
  await launch();
  return broker;
}

export async function startTestBroker(): Promise<TestBroker> {
  if (mosquittoPath()) return startMosquitto();
  const b = await startEmbeddedBroker(
    { host: '127.0.0.1', port: 0 },
    createLogger({ level: 'silent', format: 'json' }),
  );
  return {
    kind: 'aedes',
    port: b.port,
    url: b.url,
    stop: () => b.close(),
    restart: () => Promise.reject(new Error('aedes test broker cannot restart')),
  };
}
