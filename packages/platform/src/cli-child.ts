/**
 * The `cdp` binary (packages/cli, built by `npm test`) as a child process,
 * for tests that crash and restart the all-in-one runner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@cdp/testkit';

// The `cdp` binary (packages/cli, built by `npm test`), driven as a user would.
export const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

export function startCli(
  dataDir: string,
  port: number,
  extraEnv: Record<string, string> = {},
): { child: ChildProcess; output: () => string } {
  let out = '';
  // The child gets only what a user would set: no test-kit variables.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CDP_')),
  );
  const child = spawn(process.execPath, [BIN, 'start'], {
    env: {
      ...env,
      CDP_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CDP_LOADER_FLUSH_MS: '300',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, output: () => out };
}

/** Waits for /healthz, failing at once with the output if the process exits first. */
export async function waitHealthy(
  url: string,
  p: { child: ChildProcess; output: () => string },
): Promise<void> {
  await waitFor(
    async () => {
      if (p.child.exitCode !== null)
        throw new Error(`cdp start exited with ${p.child.exitCode}:\n${p.output()}`);
      return (await fetch(`${url}/healthz`)).ok;
    },
    { timeoutMs: 60_000, what: 'cdp start to answer /healthz' },
  );
}
