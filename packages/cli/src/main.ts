#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { runCli } from './cli';
import type { CliOutput } from './output';

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

/** The progress line lives on stderr, overwritten in place, and only on a terminal. */
function terminalOutput(): CliOutput {
  const output: CliOutput = { out: (line) => process.stdout.write(`${line}\n`), error: (line) => process.stderr.write(`${line}\n`) };
  if (process.stderr.isTTY) {
    output.progress = (line) => process.stderr.write(`\r\x1b[K${line.slice(0, Math.max(0, (process.stderr.columns || 80) - 1))}`);
  }
  return output;
}

/** Reads one answer from stdin, a terminal or a pipe (`echo y | cachette clear …`); end of input is no. */
function confirm(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const reader = createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
    let answered = false;
    reader.question(question, (answer) => {
      answered = true;
      reader.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
    reader.on('close', () => {
      if (!answered) resolve(false);
    });
  });
}

void runCli(process.argv.slice(2), terminalOutput(), { version: packageVersion(), confirm }).then((code) => {
  process.exitCode = code;
});
