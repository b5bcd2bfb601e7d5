// Startup that rolls back: a component is assembled from parts that each can be closed; the parts
// started so far are kept on a stack, and when a later step fails they are closed in reverse order
// within one deadline, then the failure goes on to the caller (the CLI prints its one line).

export interface Part {
  name: string;
  close(): unknown;
}

export interface Parts {
  /** Records a started part; returns `part` for chaining (`const x = parts.add('x', make(), (x) => x.close())`). */
  add<T>(name: string, part: T, close: (part: T) => unknown): T;
  /** Records a close step with nothing to return (a timer, a subscription). */
  defer(name: string, close: () => unknown): void;
  /** Names of the parts started so far, in order (tests, logs). */
  names(): string[];
  /**
   * Closes every part, newest first, each awaited before the next, all within `deadlineMs` (what
   * is still closing then is left). Errors are collected, not thrown: every part gets its turn.
   */
  closeAll(deadlineMs: number): Promise<{ name: string; error: unknown }[]>;
}

export function createParts(): Parts {
  const stack: Part[] = [];
  return {
    add(name, part, close) {
      stack.push({ name, close: () => close(part) });
      return part;
    },
    defer(name, close) {
      stack.push({ name, close });
    },
    names: () => stack.map((p) => p.name),
    async closeAll(deadlineMs) {
      const end = Date.now() + deadlineMs;
      const errors: { name: string; error: unknown }[] = [];
      while (stack.length > 0) {
        const p = stack.pop()!;
        const left = end - Date.now();
        if (left <= 0) {
          errors.push({ name: p.name, error: new Error('close deadline passed') });
          continue;
        }
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            Promise.resolve().then(() => p.close()),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`${p.name}: close took over ${left} ms`)), left);
            }),
          ]);
        } catch (error) {
          errors.push({ name: p.name, error });
        } finally {
          clearTimeout(timer);
        }
      }
      return errors;
    },
  };
}

/**
 * Runs `build` with a fresh stack of parts. If it throws, the parts it started are closed in
 * reverse (bounded by `deadlineMs`) and the original error is rethrown; close errors go to `log`.
 */
export async function assemble<T>(
  build: (parts: Parts) => Promise<T>,
  opts: { deadlineMs: number; log?: { warn(o: object, msg: string): void } },
): Promise<T> {
  const parts = createParts();
  try {
    return await build(parts);
  } catch (err) {
    const errors = await parts.closeAll(opts.deadlineMs);
    for (const e of errors) opts.log?.warn({ part: e.name, err: e.error }, 'rollback: close failed');
    throw err;
  }
}
