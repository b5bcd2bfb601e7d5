// A real MQTT broker for tests: mosquitto (a missing one fails with the line that installs it).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net.ts';
import { requireTools } from './tools.ts';

export interface TestBroker {
  kind: 'mosquitto';
  port: number;
  url: string;
  /** mosquitto only: the process, for kill/restart tests. */
  proc?: ChildProcess;
  /** Stops the broker (SIGKILL for mosquitto when hard). */
  stop(hard?: boolean): Promise<void>;
  /** Starts it again on the same port (mosquitto only). */
  restart(): Promise<void>;
}

export function mosquittoPath(): string {
  requireTools('mosquitto');
  const found = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) =>
    existsSync(p),
  );
  if (!found) throw new Error('mosquitto: no binary in /usr/sbin, /usr/bin or /usr/local/sbin');
  return found;
}

export interface MosquittoOptions {
  /** Extra lines for mosquitto.conf (listener options, auth, TLS). */
  extraConf?: string[];
  persistence?: boolean;
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<TestBroker> {
  const bin = mosquittoPath();
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

/** The broker the tests use: mosquitto, as in production (aedes is tested where it is meant). */
export function startTestBroker(): Promise<TestBroker> {
  return startMosquitto();
}
