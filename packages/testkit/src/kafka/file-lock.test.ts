import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirSync } from '../temp-dir.js';
import { withFileLock } from './file-lock.js';

const dir = tempDirSync('testkit-lock');
afterAll(() => dir.remove());

describe('withFileLock', () => {
  it('runs holders one at a time', async () => {
    const lock = dir.join('a.lock');
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(lock, async () => {
        events.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 30));
        events.push(`${name}-`);
      });
    await Promise.all([holder('a'), holder('b')]);
    expect(events.join(' ')).toMatch(/^(a\+ a- b\+ b-|b\+ b- a\+ a-)$/);
  });

  it('breaks a lock whose holder process is gone', async () => {
    const lock = dir.join('b.lock');
    await writeFile(lock, JSON.stringify({ pid: 2 ** 22 + 12345, since: 'long ago' }));
    await expect(withFileLock(lock, () => readFile(lock, 'utf8'))).resolves.toContain(
      `"pid":${process.pid}`,
    );
  });
});
