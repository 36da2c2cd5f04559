import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp-dir.js';

/** The built CLI (`npm test` builds first); the same path from src/ and dist/. */
const CLI = fileURLToPath(new URL('../dist/clickhouse-front-cli.js', import.meta.url));

/** A ClickHouse HTTP front over chDB, running as a child process. */
export interface SpawnedClickHouseFront {
  /** For `CLICKHOUSE_URL`. */
  readonly url: string;
  readonly process: ChildProcess;
  /** SIGTERM, then SIGKILL after 5 s; removes the data directory it made. */
  stop(): Promise<void>;
}

/**
 * Starts `clickhouse-front-cli` on a fresh temporary data directory (or
 * `dataDir`) and resolves once it listens. Its stderr goes to this process's.
 */
export async function spawnClickHouseFront(
  opts: { dataDir?: string; timeoutMs?: number } = {},
): Promise<SpawnedClickHouseFront> {
  const made = opts.dataDir === undefined ? await tempDir('cdp-ch-front') : undefined;
  const dataDir = opts.dataDir ?? made?.path ?? '';
  const child = spawn(process.execPath, [CLI, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await made?.remove();
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('clickhouse-front: not listening in time')),
        opts.timeoutMs ?? 30_000,
      );
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { url: string }).url);
        } catch {
          reject(new Error(`clickhouse-front: unexpected output ${line}`));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`clickhouse-front exited (${signal ?? code}) before listening`));
      });
    });
    child.stdout.resume();
    return { url, process: child, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
