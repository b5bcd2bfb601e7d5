// Errors with names (as fastify's FST_ERR_...): every error the user can cause or fix has a code,
// an exit code and a one-line message, and is made by the factory of the same name. The CLI prints
// `facegate: <message>` and exits with the code; nothing else turns errors into exit codes.
// A leaf module: it imports nothing, so shared/, config/ and contract/ may all use it.

/** Exit codes by error code: 2 usage or configuration, 3 a port or a system tool, 4 the broker. */
export const exitCodes = {
  /** Bad flags or arguments on the command line. */
  FACEGATE_ERR_USAGE: 2,
  /** The configuration (file, environment, --set) does not load or does not validate. */
  FACEGATE_ERR_CONFIG: 2,
  /** An id or prefix that cannot be an MQTT topic level. */
  FACEGATE_ERR_TOPIC: 2,
  /** A file named in the configuration cannot be read (TLS material). */
  FACEGATE_ERR_FILE: 2,
  /** The broker URL does not parse. */
  FACEGATE_ERR_BROKER_URL: 2,
  /** The port is taken by another process. */
  FACEGATE_ERR_PORT_IN_USE: 3,
  /** The port needs privileges this process lacks (EACCES), or the address is not ours. */
  FACEGATE_ERR_PORT_DENIED: 3,
  /** ffmpeg is missing or does not run. */
  FACEGATE_ERR_FFMPEG: 3,
  /** The MQTT broker cannot be reached, or refuses us. */
  FACEGATE_ERR_BROKER: 4,
} as const;

export type ErrorCode = keyof typeof exitCodes;

/** An error the user caused or can fix: printed as one line with its exit code, never a stack. */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = new.target.name;
    this.exitCode = exitCodes[code];
  }
}

/** Bad configuration: exit code 2, like a usage error; the message starts with `config: `. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super('FACEGATE_ERR_CONFIG', `config: ${message}`);
  }
}

export type ErrorFactory = ((message: string) => UserError) & { readonly code: ErrorCode };

function named(code: ErrorCode): ErrorFactory {
  return Object.assign((message: string) => new UserError(code, message), { code });
}

export const FACEGATE_ERR_USAGE = named('FACEGATE_ERR_USAGE');
export const FACEGATE_ERR_TOPIC = named('FACEGATE_ERR_TOPIC');
export const FACEGATE_ERR_FILE = named('FACEGATE_ERR_FILE');
export const FACEGATE_ERR_BROKER_URL = named('FACEGATE_ERR_BROKER_URL');
export const FACEGATE_ERR_PORT_IN_USE = named('FACEGATE_ERR_PORT_IN_USE');
export const FACEGATE_ERR_PORT_DENIED = named('FACEGATE_ERR_PORT_DENIED');
export const FACEGATE_ERR_FFMPEG = named('FACEGATE_ERR_FFMPEG');
export const FACEGATE_ERR_BROKER = named('FACEGATE_ERR_BROKER');
/** A setting that loaded but cannot be used (the loader's own errors are ConfigError). */
export const FACEGATE_ERR_CONFIG = named('FACEGATE_ERR_CONFIG');

/** The line and exit code the CLI gives a named error; undefined for anything else (a bug). */
export function describeError(err: unknown): { line: string; exitCode: number; code: ErrorCode } | undefined {
  if (!(err instanceof UserError)) return undefined;
  return { line: err.message, exitCode: exitCodes[err.code], code: err.code };
}
