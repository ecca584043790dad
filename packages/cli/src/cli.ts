import { CacheConnectionError, CacheError, CacheTimeoutError, InvalidCacheBackendError, NotSupportedError } from '@cachette/cache-core';
import { CliError, ExitCode } from './cli-error';
import { isParseArgsError } from './command-options';
import type { Command } from './commands/command';
import { conformanceCommand } from './commands/conformance';
import { createCacheTable } from './commands/create-cache-table';
import type { CliOptions, CliOutput, CommandContext } from './output';
import { storeCommands } from './store/commands';

const COMMANDS: readonly Command[] = [createCacheTable, conformanceCommand, ...storeCommands];

function overview(version: string): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`);
  return `cachette ${version}: Django's cache framework for Node.js, from the command line.

Usage: cachette <command> [arguments] [options]

Commands:
${lines.join('\n')}

Run 'cachette <command> --help' for a command's arguments and options.`;
}

/** An error as the user sees it: the message, and the exit code that tells a script what happened. */
function classify(error: unknown, command: Command | undefined): { message: string; exitCode: ExitCode } {
  const message = error instanceof Error ? error.message : String(error);
  const helpHint = command ? `\nRun 'cachette ${command.name} --help' for usage.` : `\nRun 'cachette --help' for the commands.`;
  if (error instanceof CliError) return { message: error.exitCode === ExitCode.usage ? message + helpHint : message, exitCode: error.exitCode };
  if (isParseArgsError(error)) return { message: message + helpHint, exitCode: ExitCode.usage };
  if (error instanceof InvalidCacheBackendError || error instanceof NotSupportedError) return { message, exitCode: ExitCode.usage };
  if (error instanceof CacheConnectionError || error instanceof CacheTimeoutError) return { message, exitCode: ExitCode.unreachable };
  // Cachette's own errors say what happened (a key that is not a number, a value too large); others may need their name.
  return { message: error instanceof CacheError || !(error instanceof Error) ? message : `${error.name}: ${message}`, exitCode: ExitCode.failure };
}

export interface RunCliOptions extends CliOptions {
  /** Printed by `cachette --version` and in the overview. */
  version?: string;
}

/** Runs one `cachette` command line; never rejects, resolves to the exit code. */
export async function runCli(argv: readonly string[], output: CliOutput, options: RunCliOptions = {}): Promise<ExitCode> {
  const [name, ...rest] = argv;
  const version = options.version ?? 'dev';
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    output[name === undefined ? 'error' : 'out'](overview(version));
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === '--version' || name === '-v') {
    output.out(version);
    return ExitCode.ok;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  const context: CommandContext = { output, cwd: options.cwd ?? process.cwd(), confirm: options.confirm ?? (() => Promise.resolve(false)) };
  try {
    if (command === undefined) throw new CliError(`Unknown command '${name}'.`, ExitCode.usage);
    return await command.run(rest, context);
  } catch (error) {
    const { message, exitCode } = classify(error, command);
    output.error(message);
    return exitCode;
  }
}
