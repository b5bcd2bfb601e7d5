// `facegate <command>`: parses flags, loads the configuration, runs the command, and turns user
// errors into one line on stderr with an exit code (never a stack trace).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { describeError, FACEGATE_ERR_USAGE } from '../shared/errors.ts';
import { createLogger } from '../shared/log.ts';
import type { Config } from '../config/schema.ts';
import type { Command, CommandContext, FlagSpec } from './command.ts';
import { commands } from './commands/index.ts';

/** Flags every command takes. */
const commonFlags: FlagSpec[] = [
  { name: 'config', type: 'string', help: 'YAML configuration file' },
  {
    name: 'set',
    type: 'string',
    multiple: true,
    help: 'set any key: --set gateway.budgetFps=100 (repeatable)',
  },
  { name: 'log-level', type: 'string', path: 'log.level', help: 'fatal|error|warn|info|debug|trace|silent' },
  { name: 'help', type: 'boolean', help: 'show help' },
];

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

function flagLine(f: FlagSpec): string {
  const left = `  --${f.name}${f.type === 'string' ? ' <v>' : ''}`;
  return `${left.padEnd(26)}${f.help}${f.path ? ` (${f.path})` : ''}`;
}

export function helpText(cmd?: Command): string {
  if (cmd) {
    return [
      `facegate ${cmd.name}: ${cmd.summary}`,
      '',
      cmd.usage,
      '',
      'Flags:',
      ...[...cmd.flags, ...commonFlags].map(flagLine),
      '',
      'Environment: FACEGATE_<SECTION>_<KEY> for any key, and CAMERAS, GATEWAYS, MQTT_URL.',
      '',
    ].join('\n');
  }
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 2;
  return [
    'facegate: a simulated city of RTSP entrance cameras, and gateways that turn their video into face events.',
    '',
    'Usage: facegate <command> [flags]',
    '',
    'Commands:',
    ...Object.values(commands).map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `facegate <command> --help` for its flags.',
    '',
  ].join('\n');
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function nearest(name: string): string | undefined {
  const scored = Object.keys(commands)
    .map((n) => ({ n, d: distance(name, n) }))
    .sort((x, y) => x.d - y.d);
  const best = scored[0];
  return best && best.d <= Math.max(2, Math.floor(best.n.length / 3)) ? best.n : undefined;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  io: Io = process,
): Promise<number> {
  const name = argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(helpText(argv[1] ? commands[argv[1]] : undefined));
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    const hint = nearest(name);
    io.stderr.write(
      `facegate: unknown command ${JSON.stringify(name)}${hint ? ` (did you mean ${hint}?)` : ''}; run \`facegate --help\`\n`,
    );
    return 2;
  }
  const flags = [...cmd.flags, ...commonFlags];
  const options: ParseArgsConfig['options'] = {};
  for (const f of flags) options[f.name] = { type: f.type, multiple: f.multiple ?? false };
  try {
    let parsed: { values: unknown; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv.slice(1), options, allowPositionals: true, strict: true });
    } catch (err) {
      throw FACEGATE_ERR_USAGE(
        `${name}: ${(err as Error).message.split(/\. |\n/)[0]}; run \`facegate ${name} --help\``,
      );
    }
    const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    if (values['help']) {
      io.stdout.write(helpText(cmd));
      return 0;
    }
    const sets: string[] = [];
    const own: CommandContext['flags'] = {};
    for (const f of flags) {
      const v = values[f.name];
      if (v === undefined) continue;
      if (f.path) sets.push(`${f.path}=${String(v)}`);
      else own[f.name] = v;
    }
    const extra = (values['set'] as string[] | undefined) ?? [];
    let cached: Config | undefined;
    const ctx: CommandContext = {
      args: parsed.positionals,
      flags: own,
      env,
      stdout: io.stdout,
      stderr: io.stderr,
      config: () =>
        (cached ??= loadConfig({
          file: values['config'] as string | undefined,
          env,
          sets: [...extra, ...sets],
        })),
      logger: (cfg) =>
        createLogger({ level: cfg.log.level, format: cfg.log.format, isTTY: io.stdout.isTTY ?? false }),
    };
    return await cmd.run(ctx);
  } catch (err) {
    // Named errors (shared/errors.ts): their one line and exit code; anything else is a bug.
    const named = describeError(err);
    if (named) {
      io.stderr.write(`facegate: ${named.line}\n`);
      return named.exitCode;
    }
    const e = err instanceof Error ? err : new Error(String(err));
    io.stderr.write(`facegate: internal error: ${e.message.split('\n')[0]}\n`);
    if (env['FACEGATE_DEBUG']) io.stderr.write(`${e.stack ?? ''}\n`);
    return 1;
  }
}
