// Child processes of the benchmark: started with the CLI or a script, read as JSON lines, and
// stopped (SIGTERM, then SIGKILL of the child and of whatever it started).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { processTree } from './proc-tree.ts';
import { NODE_FLAGS } from '../shared/node-flags.ts';

export const cliPath = fileURLToPath(new URL('../bin/facegate.js', import.meta.url));

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the first stdout line that matches. */
  waitLine(re: RegExp, timeoutMs: number, what: string): Promise<RegExpExecArray>;
  onLine(fn: (line: string) => void): void;
  readonly exited: boolean;
  close(timeoutMs?: number): Promise<void>;
}

export function startChild(
  args: readonly string[],
  env: Record<string, string | undefined>,
  stderr: NodeJS.WritableStream,
): Child {
  // With the V8 settings facegate runs with everywhere (the peers too: same runtime, fair terms).
  const proc = spawn(process.execPath, [...NODE_FLAGS, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
  if (proc.pid === undefined) throw new Error(`cannot start ${args.join(' ')}`);
  const pid = proc.pid;
  const listeners: ((line: string) => void)[] = [];
  const rl = createInterface({ input: proc.stdout! });
  rl.on('line', (line) => {
    for (const fn of listeners) fn(line);
  });
  proc.stderr!.on('data', (d: Buffer) => stderr.write(d));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  return {
    proc,
    pid,
    get exited() {
      return exited;
    },
    onLine: (fn) => listeners.push(fn),
    waitLine(re, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timeout after ${timeoutMs} ms: ${what}`)), timeoutMs);
        void exit.then(() => {
          clearTimeout(t);
          reject(new Error(`child exited before: ${what}`));
        });
        listeners.push((line) => {
          const m = re.exec(line);
          if (m) {
            clearTimeout(t);
            resolve(m);
          }
        });
      });
    },
    async close(timeoutMs = 10_000) {
      // Remember the whole tree: if the child dies hard, its ffmpegs would be orphaned.
      const tree = processTree([pid]);
      if (!exited) {
        proc.kill('SIGTERM');
        let t: NodeJS.Timeout | undefined;
        await Promise.race([exit, new Promise<void>((r) => (t = setTimeout(r, timeoutMs)))]);
        clearTimeout(t);
        if (!exited) {
          proc.kill('SIGKILL');
          await exit;
        }
      }
      for (const p of processTree(tree.filter((x) => x !== pid))) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      rl.close();
    },
  };
}
