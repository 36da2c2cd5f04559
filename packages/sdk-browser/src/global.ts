/**
 * Entry of the built script (`dist/cdp.min.js`): replaces the snippet's stub
 * with the SDK and replays the queued calls. A second copy of the script
 * leaves the first alone.
 */
import { createCdpCore } from './cdp.js';
import { DEFAULT_GLOBAL_NAME } from './snippet.js';

interface Page {
  document?: { currentScript?: { getAttribute(name: string): string | null } | null };
  console: { error(...args: unknown[]): void };
  [name: string]: unknown;
}

const g = globalThis as unknown as Page;
const name = g.document?.currentScript?.getAttribute('data-global') || DEFAULT_GLOBAL_NAME;
const stub = g[name];

if (stub === undefined || Array.isArray(stub)) {
  const core = createCdpCore();
  g[name] = core.api;
  for (const entry of (stub ?? []) as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string') continue;
    const [method, args, at] = entry as [string, unknown, unknown];
    try {
      void core.call(
        method,
        Array.isArray(args) ? args : [],
        typeof at === 'number' ? at : undefined,
      );
    } catch (err) {
      g.console.error(err);
    }
  }
}
