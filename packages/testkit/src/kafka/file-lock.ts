import { open, readFile, rm, stat } from 'node:fs/promises';

export interface FileLockOptions {
  /** Give up waiting for another holder after this long (default 15 min). */
  readonly waitMs?: number;
  /** A lock older than this is taken to be abandoned (default 20 min). */
  readonly staleMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  readonly onWait?: (holder: string) => void;
}

/**
 * Runs `fn` while holding an exclusive lock file (created with O_EXCL, so it
 * works across processes on one machine). A lock whose holder process is gone,
 * or that is older than `staleMs`, is broken.
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: FileLockOptions = {},
): Promise<T> {
  const waitMs = opts.waitMs ?? 15 * 60_000;
  const staleMs = opts.staleMs ?? 20 * 60_000;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(
          JSON.stringify({ pid: process.pid, since: new Date().toISOString() }),
        );
      } finally {
        await handle.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readHolder(lockPath);
    if (holder === undefined) continue; // released between our open and read
    if (holder.abandoned || Date.now() - holder.mtimeMs > staleMs) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (!told) {
      told = true;
      opts.onWait?.(holder.text);
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${waitMs} ms waiting for lock ${lockPath} held by ${holder.text}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function readHolder(
  lockPath: string,
): Promise<{ text: string; mtimeMs: number; abandoned: boolean } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(lockPath, 'utf8'), stat(lockPath)]);
    let pid: number | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (
        typeof parsed === 'object' &&
        parsed !== null &&
        'pid' in parsed &&
        typeof parsed.pid === 'number'
      )
        pid = parsed.pid;
    } catch {
      // Written but not yet filled in by its holder: treat as live until stale.
    }
    return {
      text: text || '(empty)',
      mtimeMs: st.mtimeMs,
      abandoned: pid !== undefined && !processAlive(pid),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Whether a process with this id exists (signal 0 checks without sending). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
