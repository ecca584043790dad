/** Where a command writes: the bin passes the terminal, tests pass arrays. */
export interface CliOutput {
  /** One line (or several, joined by newlines) of results, for stdout. */
  out(line: string): void;
  /** One line of diagnostics, for stderr. */
  error(line: string): void;
  /** Replaces the progress line in place (`''` clears it); given only on a terminal. */
  progress?(line: string): void;
}

export interface CliOptions {
  /** The directory modules, config files and relative paths resolve from. Default: `process.cwd()`. */
  cwd?: string;
  /** Asks a yes/no question (`clear`); without it every question is answered no. */
  confirm?(question: string): Promise<boolean>;
}

/** What every command receives besides its arguments. */
export interface CommandContext {
  output: CliOutput;
  cwd: string;
  confirm(question: string): Promise<boolean>;
}
