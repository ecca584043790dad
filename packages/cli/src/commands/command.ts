import { ExitCode } from '../cli-error';
import { commandHelp, flagOption, parseCommandArgs, type OptionSpec, type OptionValues } from '../command-options';
import type { CommandContext } from '../output';

/** One `cachette <name>` command. */
export interface Command {
  name: string;
  /** Its line in `cachette --help`. */
  summary: string;
  /** Runs it with the arguments after its name; resolves to the exit code. */
  run(argv: readonly string[], context: CommandContext): Promise<ExitCode>;
}

export interface ParsedArguments {
  positionals: string[];
  values: OptionValues;
}

export interface CommandDefinition {
  name: string;
  summary: string;
  /** `Usage:` line of `--help`, without the word. */
  usage: string;
  description: string;
  options: readonly OptionSpec[];
  /** Given the parsed arguments once `--help` has been handled. */
  run(args: ParsedArguments, context: CommandContext): Promise<ExitCode>;
}

/** A command whose options are parsed strictly and whose `--help` is made from its definition. */
export function defineCommand(definition: CommandDefinition): Command {
  const help = commandHelp(definition.usage, definition.description, definition.options);
  return {
    name: definition.name,
    summary: definition.summary,
    async run(argv, context) {
      const args = parseCommandArgs(argv, definition.options);
      if (flagOption(args.values, 'help')) {
        context.output.out(help);
        return ExitCode.ok;
      }
      return definition.run(args, context);
    },
  };
}
