import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CdpError, type Logger } from '@cdp/core';
import {
  BUILTIN_DEFINITIONS,
  orderDefinitions,
  outputsOf,
  validateDefinition,
  type StoredDefinition,
  type TagDefinition,
} from '@cdp/tags';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';

/** Tag definitions in the warehouse: versioned rows, the built-ins seeded at start. */
export interface DefinitionStore {
  /** Every stored definition (enabled or not), by name. */
  list(): Promise<StoredDefinition[]>;
  /** A definition by its name or by the name of a tag it produces. */
  get(name: string): Promise<StoredDefinition>;
  /** Creates (`mode: 'create'`, refused if it exists), replaces (`'replace'`, refused if missing) or upserts. */
  save(
    raw: unknown,
    mode: 'create' | 'replace' | 'upsert',
    name?: string,
  ): Promise<StoredDefinition>;
  remove(name: string): Promise<void>;
  /** Stores the built-ins that were never stored (a deleted built-in stays deleted). */
  seedBuiltins(): Promise<void>;
  /** Loads every `*.json` of a folder (one definition or an array per file) as upserts. */
  loadFolder(dir: string): Promise<string[]>;
}

interface Row {
  name: string;
  definition: string;
  builtin: number;
  updated_at: string;
  version: string | number;
  is_deleted: number;
}

const BUILTIN_NAMES = new Set(BUILTIN_DEFINITIONS.map((d) => d.name));

function toStored(r: Row): StoredDefinition {
  return {
    definition: JSON.parse(r.definition) as TagDefinition,
    version: Number(r.version),
    builtin: r.builtin === 1,
    updatedAt: clickHouseTimeIso(r.updated_at),
  };
}

export function createDefinitionStore(deps: {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly now?: () => number;
}): DefinitionStore {
  const { warehouse } = deps;
  const now = deps.now ?? Date.now;

  const rows = async (includeDeleted: boolean): Promise<Row[]> =>
    warehouse.query<Row>(
      `SELECT name, definition, builtin, toString(updated_at) AS updated_at, version, is_deleted
       FROM ${TABLES.tagDefinitions} FINAL ${includeDeleted ? '' : 'WHERE is_deleted = 0'} ORDER BY name`,
    );

  const write = async (def: TagDefinition, version: number, deleted: boolean): Promise<void> => {
    await warehouse.insert(TABLES.tagDefinitions, [
      {
        name: def.name,
        definition: JSON.stringify(def),
        builtin: BUILTIN_NAMES.has(def.name) ? 1 : 0,
        updated_at: new Date(now()).toISOString(),
        version,
        is_deleted: deleted ? 1 : 0,
      },
    ]);
  };

  const store: DefinitionStore = {
    async list() {
      return (await rows(false)).map(toStored);
    },

    async get(name) {
      const all = await store.list();
      const found =
        all.find((d) => d.definition.name === name) ??
        all.find((d) => outputsOf(d.definition).some((o) => o.name === name));
      if (!found)
        throw new CdpError('CDP_ERR_TAG_NOT_FOUND', {
          field: 'name',
          message: `No tag definition produces ${name}`,
        });
      return found;
    },

    async save(raw, mode, name) {
      const def = validateDefinition(raw);
      if (name !== undefined && def.name !== name)
        throw new CdpError('CDP_ERR_TAG_INVALID', {
          field: 'name',
          message: `name: the body names ${def.name}, the path ${name}`,
        });
      const all = await rows(true);
      const prev = all.find((r) => r.name === def.name);
      const live = prev !== undefined && prev.is_deleted === 0;
      if (mode === 'create' && live) throw new CdpError('CDP_ERR_TAG_EXISTS', { field: 'name' });
      if (mode === 'replace' && !live)
        throw new CdpError('CDP_ERR_TAG_NOT_FOUND', { field: 'name' });
      const liveDefs = all
        .filter((r) => r.is_deleted === 0 && r.name !== def.name)
        .map((r) => JSON.parse(r.definition) as TagDefinition);
      orderDefinitions([...liveDefs, def]);
      if (live && prev.definition === JSON.stringify(def)) return toStored(prev);
      // Versions only grow, also across a delete and a re-create.
      const version = Math.max(now(), prev ? Number(prev.version) + 1 : 0);
      await write(def, version, false);
      deps.logger.info({ tag: def.name, version }, 'tag_definition_saved');
      return {
        definition: def,
        version,
        builtin: BUILTIN_NAMES.has(def.name),
        updatedAt: new Date(now()).toISOString(),
      };
    },

    async remove(name) {
      const all = await rows(true);
      const prev = all.find((r) => r.name === name && r.is_deleted === 0);
      if (!prev) throw new CdpError('CDP_ERR_TAG_NOT_FOUND', { field: 'name' });
      const def = JSON.parse(prev.definition) as TagDefinition;
      const others = all
        .filter((r) => r.is_deleted === 0 && r.name !== name)
        .map((r) => JSON.parse(r.definition) as TagDefinition);
      // Refused (naming the rule) if a rule reads one of its tags.
      orderDefinitions(others);
      await write(def, Math.max(now(), Number(prev.version) + 1), true);
      deps.logger.info({ tag: name }, 'tag_definition_deleted');
    },

    async seedBuiltins() {
      const all = await rows(true);
      const have = new Set(all.map((r) => r.name));
      const missing = BUILTIN_DEFINITIONS.filter((d) => !have.has(d.name));
      if (missing.length === 0) return;
      const taken = new Set(
        all
          .filter((r) => r.is_deleted === 0)
          .flatMap((r) => outputsOf(JSON.parse(r.definition) as TagDefinition).map((o) => o.name)),
      );
      const seed = missing.filter((d) => outputsOf(d).every((o) => !taken.has(o.name)));
      await warehouse.insert(
        TABLES.tagDefinitions,
        seed.map((d) => ({
          name: d.name,
          definition: JSON.stringify(d),
          builtin: 1,
          updated_at: new Date(now()).toISOString(),
          version: 1,
          is_deleted: 0,
        })),
      );
      deps.logger.info({ tags: seed.map((d) => d.name) }, 'tag_builtins_seeded');
    },

    async loadFolder(dir) {
      const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
      const saved: string[] = [];
      for (const f of files) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(await readFile(join(dir, f), 'utf8'));
        } catch (err) {
          throw new CdpError('CDP_ERR_TAG_INVALID', {
            field: f,
            message: `${f}: not JSON (${(err as Error).message})`,
          });
        }
        for (const raw of Array.isArray(parsed) ? parsed : [parsed]) {
          try {
            saved.push((await store.save(raw, 'upsert')).definition.name);
          } catch (err) {
            if (err instanceof CdpError)
              throw new CdpError(err.code, {
                field: `${f}: ${err.field ?? ''}`,
                message: `${f}: ${err.message}`,
              });
            throw err;
          }
        }
      }
      return saved;
    },
  };
  return store;
}
