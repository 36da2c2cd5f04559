import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { isCi } from './kafka/brokers-for-test.js';

/** Debian's Chromium, driven by playwright-core (no downloaded browser). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, deterministic headless Chromium in containers and CI. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchBrowserOptions {
  /** Default {@link CHROMIUM_PATH}. */
  readonly executablePath?: string;
  /** Environment to read `CI` from (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
}

/** No browser for tests on this machine; `reason` says why. */
export class BrowserUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`No browser for tests: ${reason}`);
    this.name = 'BrowserUnavailableError';
  }
}

function missing(executablePath: string): string | undefined {
  if (!existsSync(executablePath)) return `no Chromium at ${executablePath}`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed';
  }
  return undefined;
}

let warned = false;

/**
 * Why browser tests cannot run here, or `undefined` when they can. Outside CI
 * a test file skips on it (`describe.skipIf(browserUnavailableReason() !==
 * undefined)`); in CI (`CI` set to anything but empty, `0` or `false`) it
 * throws instead, so a run never passes by skipping its browser tests.
 */
export function browserUnavailableReason(opts: LaunchBrowserOptions = {}): string | undefined {
  const why = missing(opts.executablePath ?? CHROMIUM_PATH);
  if (why === undefined) return undefined;
  if (isCi(opts.env)) throw new BrowserUnavailableError(`required in CI: ${why}`);
  if (!warned) {
    warned = true;
    process.stderr.write(`[testkit] skipping browser tests: ${why}\n`);
  }
  return why;
}

/**
 * Starts headless Chromium ({@link CHROMIUM_PATH}, {@link CHROMIUM_ARGS}).
 * Throws {@link BrowserUnavailableError} when there is none; close the
 * browser when done.
 */
export async function launchBrowser(opts: LaunchBrowserOptions = {}): Promise<Browser> {
  const executablePath = opts.executablePath ?? CHROMIUM_PATH;
  const why = missing(executablePath);
  if (why !== undefined) throw new BrowserUnavailableError(why);
  // Loaded here, not at import: most users of the testkit never start a browser.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
}
