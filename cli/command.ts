// What every `facegate <command>` provides, and what it is given.
import type { Config } from '../config/schema.ts';
import type { Logger } from '../shared/log.ts';

export interface FlagSpec {
  /** Long name without dashes, e.g. "cameras". */
  name: string;
  type: 'string' | 'boolean';
  /** Config path the flag sets, e.g. "city.cameras"; absent for command-only flags. */
  path?: string;
  multiple?: boolean;
  help: string;
}

export interface CommandContext {
  /** Positional arguments after the command name. */
  args: string[];
  /** Command-only flags (those without a config path). */
  flags: Record<string, string | boolean | string[] | undefined>;
  /** Loads the effective configuration (throws ConfigError). */
  config(): Config;
  /** A root logger made from the configuration. */
  logger(cfg: Config): Logger;
  env: Record<string, string | undefined>;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Resolves to the exit code. */
  run(ctx: CommandContext): Promise<number>;
}
