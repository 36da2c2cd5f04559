/**
 * Real parts for the identity service's integration tests: the embedded bus
 * and chDB in a temporary folder, and the person an identifier has in the
 * stored graph. Not part of the service (nothing in `src/` imports it).
 */
import type { Logger } from '@cdp/core';
import { createEmbeddedBus, type Bus } from '@cdp/bus';
import { createClickHouseWarehouse, TABLES, type Warehouse } from '@cdp/warehouse';
import { tempDir } from '@cdp/testkit';

export interface Parts {
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  close(): Promise<void>;
}

/** A migrated chDB warehouse and an embedded bus of their own. */
export async function openParts(name: string, logger: Logger): Promise<Parts> {
  const dir = await tempDir(name);
  const warehouse = await createClickHouseWarehouse({ dataDir: dir.join('ch'), logger });
  await warehouse.migrate();
  const bus = await createEmbeddedBus({ dir: dir.join('bus'), logger });
  return {
    bus,
    warehouse,
    async close() {
      await bus.close();
      await warehouse.close();
      await dir.remove();
    },
  };
}

/** The stored person of an identifier (`identities`), if any. */
export async function storedPersonOf(
  warehouse: Warehouse,
  type: string,
  value: string,
): Promise<string | undefined> {
  const rows = await warehouse.query<{ one_id: string }>(
    `SELECT one_id FROM ${TABLES.identities} FINAL WHERE id_type = {type:String} AND id_value = {value:String}`,
    { type, value },
  );
  return rows[0]?.one_id;
}
