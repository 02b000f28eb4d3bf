import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { note } from './notes';

/**
 * Not a test of skyrelay: the suite run-tests.test.ts runs through run-tests.js, writing to stdout the way
 * STDOUT_WRITER says (its name does not end in .test, so npm test never picks it up itself).
 */
const writers: Record<string, () => void> = {
  none: () => note('measured 42 ms'),
  console: () => console.log('a stray console.log'),
  fd: () => fs.writeSync(1, 'a stray write to fd 1\n'),
  child: () => spawnSync('echo', ['a stray line from a child with inherited stdio'], { stdio: 'inherit' }),
};

describe('a test that writes to stdout', () => {
  it('writes the way STDOUT_WRITER says', () => {
    const write = writers[process.env['STDOUT_WRITER'] ?? 'none'];
    if (!write) throw new Error(`unknown STDOUT_WRITER ${process.env['STDOUT_WRITER']}`);
    write();
  });
});
