import { CdpError } from '@cdp/core';
import {
  audienceReferences,
  inlineAudiences,
  isAudienceName,
  validateAudience,
  type AudienceDefinition,
  type Condition,
} from '@cdp/audiences';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';

/** Seconds between scheduled runs when a definition does not say (`refresh`). */
export const DEFAULT_REFRESH_SECONDS = 60;
const MIN_REFRESH_SECONDS = 10;

/** An audience as stored. */
export interface StoredAudience {
  readonly name: string;
  readonly definition: AudienceDefinition;
  /** Seconds between scheduled runs; 0: on demand only. */
  readonly refreshSeconds: number;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Audience definitions in the warehouse: versioned rows (latest wins). */
export interface AudienceStore {
  list(): Promise<StoredAudience[]>;
  /** Throws `CDP_ERR_AUDIENCE_NOT_FOUND`. */
  get(name: string): Promise<StoredAudience>;
  /**
   * Creates (`'create'`: 409 if it exists) or replaces (`'replace'`: 404 if
   * not) from a request body `{name?, definition, refresh?}`.
   */
  save(body: unknown, mode: 'create' | 'replace', name?: string): Promise<StoredAudience>;
  /** Refused (400) while another audience names it. */
  remove(name: string): Promise<void>;
  /** The definition's tree with every `in_audience` replaced by that audience's conditions. */
  resolve(definition: AudienceDefinition, self?: string): Promise<Condition>;
}

interface Row {
  name: string;
  definition: string;
  refresh_seconds: number;
  version: string | number;
  created_at: string;
  updated_at: string;
}

const bad = (field: string, message: string): CdpError =>
  new CdpError('CDP_ERR_AUDIENCE_INVALID', { field, message: `${field}: ${message}` });

function toStored(r: Row): StoredAudience {
  return {
    name: r.name,
    definition: JSON.parse(r.definition) as AudienceDefinition,
    refreshSeconds: Number(r.refresh_seconds),
    version: Number(r.version),
    createdAt: clickHouseTimeIso(r.created_at),
    updatedAt: clickHouseTimeIso(r.updated_at),
  };
}

/** `refresh`: seconds (>= 10), or `"manual"` (on demand only); absent: the default. */
export function parseRefresh(v: unknown): number {
  if (v === undefined) return DEFAULT_REFRESH_SECONDS;
  if (v === 'manual') return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < MIN_REFRESH_SECONDS || v > 7 * 86_400)
    throw bad('refresh', `must be "manual" or whole seconds from ${MIN_REFRESH_SECONDS} to 604800`);
  return v;
}

export function createAudienceStore(deps: {
  readonly warehouse: Warehouse;
  readonly now?: () => number;
}): AudienceStore {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const T = TABLES.audiences;

  const list = async (): Promise<StoredAudience[]> =>
    (
      await wh.query<Row>(
        `SELECT name, definition, refresh_seconds, toString(version) AS version, created_at, updated_at
         FROM ${T} FINAL ORDER BY name`,
      )
    ).map(toStored);

  const find = async (name: string): Promise<StoredAudience | undefined> => {
    const [row] = await wh.query<Row>(
      `SELECT name, definition, refresh_seconds, toString(version) AS version, created_at, updated_at
       FROM ${T} FINAL WHERE name = {name:String}`,
      { name },
    );
    return row ? toStored(row) : undefined;
  };

  /**
   * The highest version any row of `name` has, deleted ones too: a
   * definition saved after a delete must outrank the delete even when the
   * clock has not moved on (a fixed clock, a clock set back).
   */
  const lastVersion = async (name: string): Promise<number> => {
    const [row] = await wh.query<{ v: string }>(
      `SELECT toString(max(version)) AS v FROM ${T} WHERE name = {name:String}`,
      { name },
    );
    return Number(row?.v ?? 0);
  };

  const get = async (name: string): Promise<StoredAudience> => {
    const found = await find(name);
    if (!found)
      throw new CdpError('CDP_ERR_AUDIENCE_NOT_FOUND', {
        field: 'name',
        message: `No audience named ${name}`,
      });
    return found;
  };

  const resolve = async (definition: AudienceDefinition, self?: string): Promise<Condition> => {
    const byName = new Map((await list()).map((a) => [a.name, a.definition]));
    return inlineAudiences(definition, (n) => byName.get(n), self);
  };

  return {
    list,
    get,
    resolve,
    async save(body, mode, pathName) {
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        throw bad('body', 'must be an object {name, definition, refresh?}');
      const b = body as Record<string, unknown>;
      for (const k of Object.keys(b))
        if (!['name', 'definition', 'refresh'].includes(k))
          throw bad(k, 'unknown field (allowed: name, definition, refresh)');
      const name = pathName ?? b['name'];
      if (!isAudienceName(name))
        throw bad('name', 'must be lower-case letters, digits, _ . - (at most 128)');
      if (pathName !== undefined && b['name'] !== undefined && b['name'] !== pathName)
        throw bad('name', `must be ${pathName} (the name in the path) or absent`);
      if (b['definition'] === undefined) throw bad('definition', 'is required');
      const definition = validateAudience(b['definition']);
      const refreshSeconds = parseRefresh(b['refresh']);
      // Names it uses exist, and it does not come back to itself.
      await resolve(definition, name);
      const existing = await find(name);
      if (mode === 'create' && existing)
        throw new CdpError('CDP_ERR_AUDIENCE_EXISTS', {
          field: 'name',
          message: `An audience named ${name} exists (use PUT /v1/audiences/${name} to change it)`,
        });
      if (mode === 'replace' && !existing) await get(name);
      const t = now();
      const version = Math.max(t, (await lastVersion(name)) + 1);
      const at = new Date(t).toISOString();
      await wh.insert(T, [
        {
          name,
          definition: JSON.stringify(definition),
          refresh_seconds: refreshSeconds,
          created_at: existing?.createdAt ?? at,
          updated_at: at,
          version,
          is_deleted: 0,
        },
      ]);
      return get(name);
    },
    async remove(name) {
      const existing = await get(name);
      for (const other of await list())
        if (other.name !== name && audienceReferences(other.definition).includes(name))
          throw bad('name', `audience ${other.name} uses ${name} (in_audience): change it first`);
      await wh.insert(T, [
        {
          name,
          definition: JSON.stringify(existing.definition),
          refresh_seconds: existing.refreshSeconds,
          created_at: existing.createdAt,
          updated_at: new Date(now()).toISOString(),
          version: Math.max(now(), (await lastVersion(name)) + 1),
          is_deleted: 1,
        },
      ]);
    },
  };
}
