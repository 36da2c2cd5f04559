import { randomUUID } from 'node:crypto';
import { CdpError, type Logger } from '@cdp/core';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import {
  hashSecret,
  IP_POLICIES,
  newWriteKey,
  normalizeOrigin,
  type IpPolicy,
  type Source,
} from './source.js';

export interface SourcePatch {
  readonly name?: string;
  readonly allowedOrigins?: readonly string[];
  readonly redirectAllowlist?: readonly string[];
  readonly ipPolicy?: IpPolicy;
}

/** The source plus its write key in clear: only ever returned by create and rotate. */
export interface SourceWithKey {
  readonly source: Source;
  readonly writeKey: string;
}

/**
 * Sources, stored in ClickHouse (`sources`, ReplacingMergeTree by version) and
 * cached in memory for the hot path. Every ingest instance refreshes the
 * cache on an interval, so a key created or rotated on one is seen by all.
 */
export interface SourceRegistry {
  /** The source of a write key, from the cache (no I/O). */
  byWriteKey(writeKey: string): Source | undefined;
  get(id: string): Source | undefined;
  list(): readonly Source[];
  /** Whether any source allows this browser origin (for CORS preflights, which carry no key). */
  anyAllowsOrigin(origin: string): boolean;
  create(input: SourcePatch & { readonly name: string }, writeKey?: string): Promise<SourceWithKey>;
  update(id: string, patch: SourcePatch): Promise<Source>;
  rotateKey(id: string): Promise<SourceWithKey>;
  refresh(): Promise<void>;
  /** Starts refreshing every `refreshMs`. */
  start(): Promise<void>;
  stop(): void;
}

interface SourceRow {
  id: string;
  name: string;
  write_key_hash: string;
  write_key_prefix: string;
  allowed_origins: string[];
  redirect_allowlist: string[];
  ip_policy: string;
  created_at: string;
  updated_at: string;
  deleted: boolean | number;
  version: string | number;
}

const parseTime = (s: string): number =>
  Date.parse(s.includes('T') ? s : `${s.replace(' ', 'T')}Z`);

function fromRow(r: SourceRow): Source {
  return {
    id: r.id,
    name: r.name,
    writeKeyHash: r.write_key_hash,
    writeKeyPrefix: r.write_key_prefix,
    allowedOrigins: r.allowed_origins,
    redirectAllowlist: r.redirect_allowlist,
    ipPolicy: (IP_POLICIES as readonly string[]).includes(r.ip_policy)
      ? (r.ip_policy as IpPolicy)
      : 'keep',
    createdAt: parseTime(r.created_at),
    updatedAt: parseTime(r.updated_at),
    version: Number(r.version),
  };
}

function toRow(s: Source): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    write_key_hash: s.writeKeyHash,
    write_key_prefix: s.writeKeyPrefix,
    allowed_origins: s.allowedOrigins,
    redirect_allowlist: s.redirectAllowlist,
    ip_policy: s.ipPolicy,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    deleted: false,
    version: s.version,
  };
}

function checkPatch(p: SourcePatch): SourcePatch {
  const out: { -readonly [K in keyof SourcePatch]: SourcePatch[K] } = {};
  if (p.name !== undefined) {
    if (typeof p.name !== 'string' || p.name.trim() === '' || p.name.length > 200) {
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'name',
        message: 'name must be a non-empty string of at most 200 characters',
      });
    }
    out.name = p.name.trim();
  }
  if (p.allowedOrigins !== undefined) {
    if (!Array.isArray(p.allowedOrigins))
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'allowedOrigins',
        message: 'allowedOrigins must be an array of origins',
      });
    out.allowedOrigins = p.allowedOrigins.map((o, i) => {
      const n = typeof o === 'string' ? normalizeOrigin(o) : undefined;
      if (!n)
        throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
          field: `allowedOrigins[${i}]`,
          message: `allowedOrigins[${i}] must be "*" or an origin like https://shop.example`,
        });
      return n;
    });
  }
  if (p.redirectAllowlist !== undefined) {
    if (!Array.isArray(p.redirectAllowlist))
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'redirectAllowlist',
        message: 'redirectAllowlist must be an array of host names',
      });
    out.redirectAllowlist = p.redirectAllowlist.map((h, i) => {
      if (
        typeof h !== 'string' ||
        !/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(h)
      ) {
        throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
          field: `redirectAllowlist[${i}]`,
          message: `redirectAllowlist[${i}] must be a host name like shop.example or *.shop.example`,
        });
      }
      return h.toLowerCase();
    });
  }
  if (p.ipPolicy !== undefined) {
    if (!IP_POLICIES.includes(p.ipPolicy))
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'ipPolicy',
        message: `ipPolicy must be one of ${IP_POLICIES.join(', ')}`,
      });
    out.ipPolicy = p.ipPolicy;
  }
  return out;
}

export function createSourceRegistry(deps: {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly refreshMs?: number;
}): SourceRegistry {
  const now = deps.now ?? Date.now;
  let byId = new Map<string, Source>();
  let byHash = new Map<string, Source>();
  let origins = new Set<string>();
  // Hashing every request's key costs a few percent of a request; keys that
  // matched are remembered until the sources change. Only keys that matched
  // are kept, so unknown keys sent by anyone cannot grow it.
  let byKey = new Map<string, Source>();
  let timer: NodeJS.Timeout | undefined;

  const install = (sources: Iterable<Source>): void => {
    const id = new Map<string, Source>();
    const hash = new Map<string, Source>();
    const orig = new Set<string>();
    for (const s of sources) {
      id.set(s.id, s);
      hash.set(s.writeKeyHash, s);
      for (const o of s.allowedOrigins) orig.add(o);
    }
    byId = id;
    byHash = hash;
    origins = orig;
    byKey = new Map();
  };

  const save = async (s: Source): Promise<void> => {
    await deps.warehouse.insert(TABLES.sources, [toRow(s)]);
    // Versions only grow, so a concurrent refresh cannot resurrect the old row.
    install([...[...byId.values()].filter((x) => x.id !== s.id), s]);
  };

  const mustGet = (id: string): Source => {
    const s = byId.get(id);
    if (!s)
      throw new CdpError('CDP_ERR_API_NOT_FOUND', {
        field: 'id',
        message: `No source with id ${id}`,
      });
    return s;
  };

  const registry: SourceRegistry = {
    byWriteKey(writeKey) {
      let s = byKey.get(writeKey);
      if (s === undefined) {
        s = byHash.get(hashSecret(writeKey));
        if (s !== undefined && byKey.size < 10_000) byKey.set(writeKey, s);
      }
      return s;
    },
    get: (id) => byId.get(id),
    list: () => [...byId.values()].sort((a, b) => a.createdAt - b.createdAt),
    anyAllowsOrigin: (origin) => origins.has('*') || origins.has(origin.toLowerCase()),
    async create(input, writeKey = newWriteKey()) {
      const p = checkPatch(input);
      const t = now();
      const source: Source = {
        id: randomUUID(),
        name: p.name ?? input.name,
        writeKeyHash: hashSecret(writeKey),
        writeKeyPrefix: writeKey.slice(0, 7),
        allowedOrigins: p.allowedOrigins ?? [],
        redirectAllowlist: p.redirectAllowlist ?? [],
        ipPolicy: p.ipPolicy ?? 'keep',
        createdAt: t,
        updatedAt: t,
        version: t,
      };
      await save(source);
      deps.logger.info({ sourceId: source.id, name: source.name }, 'source_created');
      return { source, writeKey };
    },
    async update(id, patch) {
      const p = checkPatch(patch);
      const old = mustGet(id);
      const t = Math.max(now(), old.version + 1);
      const next: Source = { ...old, ...p, updatedAt: t, version: t };
      await save(next);
      deps.logger.info({ sourceId: id, fields: Object.keys(p) }, 'source_updated');
      return next;
    },
    async rotateKey(id) {
      const old = mustGet(id);
      const writeKey = newWriteKey();
      const t = Math.max(now(), old.version + 1);
      const source: Source = {
        ...old,
        writeKeyHash: hashSecret(writeKey),
        writeKeyPrefix: writeKey.slice(0, 7),
        updatedAt: t,
        version: t,
      };
      await save(source);
      deps.logger.info({ sourceId: id }, 'source_key_rotated');
      return { source, writeKey };
    },
    async refresh() {
      const rows = await deps.warehouse.query<SourceRow>(
        `SELECT * FROM ${TABLES.sources} FINAL WHERE NOT deleted ORDER BY created_at`,
      );
      install(rows.map(fromRow));
    },
    async start() {
      await registry.refresh();
      const ms = deps.refreshMs ?? 10_000;
      timer = setInterval(() => {
        registry
          .refresh()
          .catch((err: unknown) => deps.logger.warn({ err }, 'sources_refresh_failed'));
      }, ms);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
  return registry;
}
