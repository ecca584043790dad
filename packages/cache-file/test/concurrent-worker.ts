// A separate process working on one key of a shared cache directory, for the concurrency tests.
// argv: <directory> <mode: write|read|add|incr> <worker id> <rounds>; prints one JSON line with its result.
import { FileCache } from '../src/file-cache';
import { isValueOfAWriter, valueOfWriter } from './concurrent-values';

const [directory, mode, workerId, rounds] = process.argv.slice(2) as [string, string, string, string];
const cache = new FileCache({ location: directory });

async function run(): Promise<object> {
  if (mode === 'add') return { added: await cache.add('contested', Number(workerId)) };
  if (mode === 'incr') {
    for (let round = 0; round < Number(rounds); round++) await cache.incr('counter');
    return {};
  }
  if (mode === 'write') {
    for (let round = 0; round < Number(rounds); round++) await cache.set('shared', valueOfWriter(Number(workerId)));
    return {};
  }
  const reads = { whole: 0, torn: 0, missing: 0 };
  for (let round = 0; round < Number(rounds); round++) {
    const value = await cache.get('shared');
    if (value === undefined) reads.missing++;
    else if (isValueOfAWriter(value)) reads.whole++;
    else reads.torn++;
  }
  return reads;
}

process.stdout.write(`${JSON.stringify(await run())}\n`);
