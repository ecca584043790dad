#!/usr/bin/env node
import { runCommand } from './command';

runCommand(process.argv.slice(2), { out: (line) => console.log(line), error: (line) => console.error(line) }).then((code) => {
  process.exitCode = code;
});
