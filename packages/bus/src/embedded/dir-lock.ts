/**
 * One bus per data directory: a `LOCK` file holding the owner's pid. A lock
 * left by a process that died (kill -9) is taken over; a lock held by a live
 * process, or by another open bus in this process, is refused.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CdpError } from '@cdp/core';

const heldHere = new Set<string>();

/** A held directory lock. */
export interface DirLock {
  release(): Promise<void>;
}

/** Takes the lock on `dir` or throws a `CDP_ERR_BUS_UNAVAILABLE` error naming the holder. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const key = resolve(dir);
  const path = join(key, 'LOCK');
  if (heldHere.has(key)) throw busy(dir, process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}\n`);
      } finally {
        await fh.close();
      }
      heldHere.add(key);
      return {
        async release() {
          heldHere.delete(key);
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      // Our own pid without an entry in heldHere is a stale lock from an
      // earlier process that had the same pid (pid 1 in a container).
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder))
        throw busy(dir, holder);
      await rm(path, { force: true });
    }
  }
  throw busy(dir, undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function busy(dir: string, pid: number | undefined): CdpError {
  return new CdpError('CDP_ERR_BUS_UNAVAILABLE', {
    message: `The bus data directory ${dir} is in use${pid === undefined ? '' : ` by process ${pid}`}; one process per directory`,
    retryable: true,
  });
}
