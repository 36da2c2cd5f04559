import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

let counter = 0;

/** Suffix of temporary files written by {@link writeFileAtomic}; leftovers of a crash can be deleted. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Replaces `path` with `data` atomically: readers (and a restart after a
 * crash) see either the old content or the new, never a mix. Writes a
 * temporary file beside it and renames it over. With `durable`, the file
 * and its directory are fsynced so the new content also survives power loss.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Buffer,
  durable: boolean,
): Promise<void> {
  const tmp = `${path}.${process.pid}.${++counter}${TEMP_SUFFIX}`;
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await syncDir(dirname(path));
}

/** fsyncs a directory, making file creations, renames and deletions in it durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
