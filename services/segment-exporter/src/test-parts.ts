/**
 * The real parts the exporter's integration tests run on: chDB (migrated)
 * and the embedded bus in a temp dir, opened before the file's tests and
 * closed after them. Left out of the build.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Logger } from '@cdp/core';
import { createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, type Warehouse } from '@cdp/warehouse';
import { tempDir, type TempDir } from '@cdp/testkit';

export interface RealParts {
  readonly wh: Warehouse;
  readonly bus: Bus;
}

/** Registers the hooks; the parts are there once `beforeAll` ran. */
export function useRealParts(name: string, logger: Logger): RealParts {
  let dir: TempDir | undefined;
  const parts = {} as { wh: Warehouse; bus: Bus };
  beforeAll(async () => {
    dir = await tempDir(name);
    parts.wh = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
    await parts.wh.migrate();
    parts.bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
  }, 120_000);
  afterAll(async () => {
    await parts.bus?.close();
    await parts.wh?.close();
    await dir?.remove();
  });
  return parts;
}
