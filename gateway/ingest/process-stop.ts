// Stops a child process: SIGTERM, then SIGKILL after a deadline. Resolves once it exited, or after
// a last bound past SIGKILL (which cannot be ignored; the bound only guards a lost exit event).
import type { ChildProcess } from 'node:child_process';

export async function stopProcess(
  child: ChildProcess,
  exited: Promise<unknown>,
  killTimeoutMs: number,
  afterKillMs = 2000,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    exited.then(() => true),
    new Promise<false>((r) => (timer = setTimeout(() => r(false), killTimeoutMs))),
  ]);
  clearTimeout(timer);
  if (done) return;
  child.kill('SIGKILL');
  await Promise.race([exited, new Promise<void>((r) => setTimeout(r, afterKillMs).unref())]);
}
