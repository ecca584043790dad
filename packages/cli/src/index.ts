export { runCli, type RunCliOptions } from './cli';
export { CliError, ExitCode, UsageError } from './cli-error';
export type { CliOptions, CliOutput } from './output';
