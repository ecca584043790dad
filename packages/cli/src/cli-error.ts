/** The exit codes of every cachette command. */
export const ExitCode = {
  /** Done; for `conformance`, every test passed. */
  ok: 0,
  /** The operation failed: a missing key, a failed conformance test, an unexpected error. */
  failure: 1,
  /** A mistake to fix before trying again: the arguments, the URL, the backend, an operation the backend lacks. */
  usage: 2,
  /** The cache's server could not be reached or did not answer in time: trying again later may work. */
  unreachable: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: its message is printed as it is, without a stack, and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A mistake in the command line; reported with a pointer to the command's `--help`. */
export class UsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
  }
}
