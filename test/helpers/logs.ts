// A pino destination that keeps parsed JSON lines, for asserting on logs.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/log.ts';

export interface LogLine {
  level: number;
  msg?: string;
  [k: string]: unknown;
}

export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

export function captureLogger(level = 'debug'): { log: Logger; lines: LogLine[]; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger({ level, format: 'json', destination: sink });
  return {
    log,
    get lines() {
      return parseLogLines(chunks.join(''));
    },
    text: () => chunks.join(''),
  };
}
