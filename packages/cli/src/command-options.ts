import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionConfig = NonNullable<ParseArgsConfig['options']>[string];

/** One option of a command: how `parseArgs` reads it, and its line in `--help`. */
export interface OptionSpec {
  name: string;
  config: ParseArgsOptionConfig;
  /** The option as the help shows it: `--timeout <seconds>`. */
  synopsis: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

const HELP_OPTION: OptionSpec = { name: 'help', config: { type: 'boolean', short: 'h' }, synopsis: '-h, --help', help: 'show this help' };

/** Strict parsing: an unknown option is a usage error (`parseArgs` throws `ERR_PARSE_ARGS_*`). */
export function parseCommandArgs(argv: readonly string[], options: readonly OptionSpec[]): { positionals: string[]; values: OptionValues } {
  const config = Object.fromEntries([...options, HELP_OPTION].map((option) => [option.name, option.config]));
  const { positionals, values } = parseArgs({ args: [...argv], allowPositionals: true, strict: true, options: config });
  return { positionals, values: values as OptionValues };
}

/** `Usage:` and the option table of a command's `--help`. */
export function commandHelp(usage: string, description: string, options: readonly OptionSpec[]): string {
  const all = [...options, HELP_OPTION];
  const width = Math.max(...all.map((option) => option.synopsis.length));
  const lines = all.map((option) => `  ${option.synopsis.padEnd(width)}  ${option.help}`);
  return `Usage: ${usage}\n\n${description}\n\nOptions:\n${lines.join('\n')}`;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function stringListOption(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

export function flagOption(values: OptionValues, name: string): boolean {
  return values[name] === true;
}

export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
