// Errors the user caused: they print as one line and exit with a code, never a stack trace.
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad configuration: exit code 2, like a usage error. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(`config: ${message}`, 2);
  }
}
