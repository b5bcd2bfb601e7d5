// pino, set up once: JSON lines by default, readable on a terminal, secrets never written.
import { oneLine, redactUrl } from './text.ts';
import { pino, type Logger, type DestinationStream, type LoggerOptions } from 'pino';

export type { Logger };

export interface LogOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go; tests pass a sink. Default: stdout. */
  destination?: DestinationStream | undefined;
  /** Whether stdout is a terminal (for format 'auto'). */
  isTTY?: boolean | undefined;
}

export { oneLine, redactUrl };

function scrub(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return v.includes('@') ? redactUrl(v) : v;
  if (depth > 4 || typeof v !== 'object' || v === null || v instanceof Error) return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrub(x, depth + 1);
  return out;
}

export const redactPaths = [
  'password',
  '*.password',
  '*.*.password',
  'pass',
  '*.pass',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  'key',
  '*.key',
];

export function createLogger(opts: LogOptions): Logger {
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && (opts.isTTY ?? false));
  const options: LoggerOptions = {
    level: opts.level,
    base: null,
    redact: { paths: redactPaths, censor: '***' },
    formatters: { log: (obj) => scrub(obj, 0) as Record<string, unknown> },
    hooks: {
      logMethod(args, method) {
        // Messages may carry URLs too (error text from ffmpeg or mqtt.js).
        const scrubbed = args.map((a) => (typeof a === 'string' ? redactUrl(a) : a)) as Parameters<
          typeof method
        >;
        method.apply(this, scrubbed);
      },
    },
    serializers: { err: (e: unknown) => errSerializer(e) },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (pretty) {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}

function errSerializer(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const out: Record<string, unknown> = { type: e.name, message: redactUrl(e.message) };
  const code = (e as NodeJS.ErrnoException).code;
  if (code) out['code'] = code;
  if (e.stack) out['stack'] = redactUrl(e.stack);
  return out;
}
