import { createCacheTableCommand } from '@cachette/cache-sql';
import type { ExitCode } from '../cli-error';
import type { Command } from './command';

/** cache-sql owns the command (its options, config reading and messages); the CLI gives it a name. */
export const createCacheTable: Command = {
  name: 'createcachetable',
  summary: 'create the tables of the SQL caches (by --url or --config)',
  run: async (argv, { output, cwd }) => (await createCacheTableCommand(argv, output, cwd)) as ExitCode,
};
