// The last N lines of a child's stderr, each cut to a bounded length, with a count of the lines that
// fell out: enough to classify a failure and log it, never unbounded memory.
import type { Readable } from 'node:stream';

const MAX_LINE = 400;

export interface StderrTail {
  add(line: string): void;
  lines(): string[];
  dropped(): number;
  /** Flushes a partial last line (the process exited). */
  end(): void;
}

/** Follows `stream` if given; `onLines` sees how many whole lines each chunk held. */
export function createStderrTail(
  keep: number,
  stream?: Readable | null,
  onLines?: (count: number) => void,
): StderrTail {
  const tail: string[] = [];
  let dropped = 0;
  let partial = '';
  const add = (line: string): void => {
    if (!line) return;
    tail.push(line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line);
    if (tail.length > keep) {
      tail.shift();
      dropped++;
    }
  };
  if (stream) {
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      const parts = (partial + s).split(/\r?\n|\r/);
      partial = (parts.pop() ?? '').slice(0, MAX_LINE * 4);
      for (const p of parts) add(p.trim());
      if (parts.length > 0) onLines?.(parts.length);
    });
    stream.on('error', () => undefined);
  }
  return {
    add,
    lines: () => [...tail],
    dropped: () => dropped,
    end() {
      add(partial.trim());
      partial = '';
    },
  };
}
