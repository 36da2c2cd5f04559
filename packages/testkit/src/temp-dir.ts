import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir. */
export interface TempDir {
  readonly path: string;
  /** `join(path, ...parts)`. */
  join(...parts: string[]): string;
  /** Deletes the directory and everything in it; safe to call twice. */
  remove(): Promise<void>;
}

// Directories not removed by their owner are removed when the process exits,
// so a failed test does not leave them behind.
const live = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const path of live) rmSync(path, { recursive: true, force: true });
  });
}

/**
 * Makes a temp directory named `<prefix>-XXXXXX`. Remove it yourself
 * (`afterAll(() => dir.remove())`); anything left is removed at process exit.
 */
export async function tempDir(prefix = 'cdp-test'): Promise<TempDir> {
  return track(await mkdtemp(join(tmpdir(), `${prefix}-`)));
}

/** Synchronous `tempDir`, for module-level setup. */
export function tempDirSync(prefix = 'cdp-test'): TempDir {
  return track(mkdtempSync(join(tmpdir(), `${prefix}-`)));
}

function track(path: string): TempDir {
  installExitHook();
  live.add(path);
  return {
    path,
    join: (...parts) => join(path, ...parts),
    async remove() {
      live.delete(path);
      await rm(path, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
