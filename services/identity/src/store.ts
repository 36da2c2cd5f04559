import type {
  AuditEntry,
  BlockRow,
  GraphSnapshot,
  IdentityRow,
  OverrideRow,
  TombstoneRow,
} from '@cdp/identity';
import { TABLES, type Warehouse } from '@cdp/warehouse';

/** Rows one resolver batch writes, gathered so that each table gets one insert. */
export interface GraphWrites {
  identities: Record<string, unknown>[];
  overrides: Record<string, unknown>[];
  blocks: Record<string, unknown>[];
  tombstones: Record<string, unknown>[];
  audit: Record<string, unknown>[];
}

export const emptyWrites = (): GraphWrites => ({
  identities: [],
  overrides: [],
  blocks: [],
  tombstones: [],
  audit: [],
});

const iso = (ms: number): string => new Date(ms).toISOString();

export function identityRow(
  r: { one_id: string; id_type: string; id_value: string; first_seen: number; last_seen: number },
  version: number,
  deleted = false,
): Record<string, unknown> {
  return {
    id_type: r.id_type,
    id_value: r.id_value,
    one_id: r.one_id,
    first_seen: iso(r.first_seen),
    last_seen: iso(r.last_seen),
    version,
    is_deleted: deleted ? 1 : 0,
  };
}

export function auditRow(
  e: AuditEntry,
  requestId: string | undefined,
  version: number,
): Record<string, unknown> {
  return {
    version,
    at: iso(e.at),
    kind: e.kind,
    one_id: e.oneId,
    other_id: e.otherId ?? '',
    identifier_type: e.identifierType ?? '',
    identifier_hash: e.identifierHash ?? '',
    reason: e.reason,
    request_id: requestId ?? e.messageId ?? '',
  };
}

/**
 * Writes a batch's rows, one insert per table (in parallel: they are
 * independent). `redo`: the batch may have been written in part before (see
 * {@link readProgress}); the graph tables take the same rows again (same
 * versions), and audit rows already stored are not written twice.
 */
export async function writeGraph(
  warehouse: Warehouse,
  w: GraphWrites,
  redo?: { readonly firstOffset: number; readonly lastOffset: number },
): Promise<void> {
  const inserts: Promise<void>[] = [];
  if (w.identities.length > 0) inserts.push(warehouse.insert(TABLES.identities, w.identities));
  if (w.overrides.length > 0) inserts.push(warehouse.insert(TABLES.personOverrides, w.overrides));
  if (w.blocks.length > 0) inserts.push(warehouse.insert(TABLES.identityBlocks, w.blocks));
  if (w.tombstones.length > 0)
    inserts.push(warehouse.insert(TABLES.identityTombstones, w.tombstones));
  await Promise.all(inserts);
  let audit = w.audit;
  if (redo && audit.length > 0) {
    // One insert: the batch's audit rows are all there, or none is.
    const stored = await warehouse.query<{ request_id: string; version: string }>(
      `SELECT DISTINCT request_id, version FROM ${TABLES.identityAudit}
       WHERE version BETWEEN {lo:UInt64} AND {hi:UInt64}`,
      {
        lo: redo.firstOffset * VERSIONS_PER_MESSAGE,
        hi: (redo.lastOffset + 1) * VERSIONS_PER_MESSAGE,
      },
    );
    const seen = new Set(stored.map((r) => `${r.request_id}|${Number(r.version)}`));
    audit = audit.filter((r) => !seen.has(`${String(r['request_id'])}|${Number(r['version'])}`));
  }
  // The audit rows last: the Person API waits for a split's or a delete's
  // audit row, then acts on the tables; they must hold the outcome by then.
  if (audit.length > 0) await warehouse.insert(TABLES.identityAudit, audit);
}

/** Room for the rows of one link message under one version number: rows of offset `o` have versions `o * 64 + k`. */
export const VERSIONS_PER_MESSAGE = 64;

/** A batch being written: its offsets, its rows and the people it changed (redone if the write stopped half-way). */
export interface BatchJournal {
  readonly firstOffset: number;
  readonly lastOffset: number;
  readonly writes: GraphWrites;
  readonly changed: readonly string[];
}

/** Where the resolver stands on a links topic (`identity_resolver_progress`). */
export type ResolverProgress =
  | { readonly state: 'done'; readonly nextOffset: number }
  | { readonly state: 'writing'; readonly journal: BatchJournal };

/** The resolver's progress on a links topic; `undefined` before its first batch. */
export async function readProgress(
  warehouse: Warehouse,
  linksTopic: string,
): Promise<ResolverProgress | undefined> {
  const rows = await warehouse.query<{
    state: string;
    first_offset: string;
    last_offset: string;
    rows: string;
  }>(
    `SELECT state, first_offset, last_offset, rows FROM ${TABLES.identityResolverProgress} FINAL
     WHERE links_topic = {topic:String}`,
    { topic: linksTopic },
  );
  const r = rows[0];
  if (!r) return undefined;
  if (r.state === 'writing')
    return { state: 'writing', journal: JSON.parse(r.rows) as BatchJournal };
  if (r.state === 'abandoned') return { state: 'done', nextOffset: Number(r.first_offset) };
  return { state: 'done', nextOffset: Number(r.last_offset) + 1 };
}

/**
 * Records a batch before its rows are written (one insert: the journal is
 * whole or absent), or once they all are (`journal` undefined: `done`).
 */
export async function writeProgress(
  warehouse: Warehouse,
  linksTopic: string,
  batch: { readonly firstOffset: number; readonly lastOffset: number },
  journal?: BatchJournal,
  /** `abandoned`: a journal that could not be redone; its links are decided again. */
  end: 'done' | 'abandoned' = 'done',
): Promise<void> {
  await warehouse.insert(TABLES.identityResolverProgress, [
    {
      links_topic: linksTopic,
      state: journal ? 'writing' : end,
      first_offset: batch.firstOffset,
      last_offset: batch.lastOffset,
      at: iso(Date.now()),
      // writing [a, b]: 2b + 1; done [a, b]: 2b + 2; the next batch starts above b.
      version: 2 * batch.lastOffset + (journal ? 1 : 2),
      rows: journal ? JSON.stringify(journal) : '',
    },
  ]);
}

/**
 * Reads the graph's durable form back (the current version of every row), in
 * the order `importIdentityGraph` expects to rebuild the same graph.
 */
export async function loadSnapshot(warehouse: Warehouse): Promise<GraphSnapshot> {
  const [identities, overrides, blocks, tombstones] = await Promise.all([
    warehouse.query<IdentityRow>(
      `SELECT one_id, id_type, id_value,
              toUnixTimestamp64Milli(first_seen) AS first_seen,
              toUnixTimestamp64Milli(last_seen) AS last_seen
       FROM ${TABLES.identities} FINAL
       ORDER BY first_seen, one_id, id_type, id_value`,
    ),
    warehouse.query<OverrideRow>(
      `SELECT from_one_id, into_one_id FROM ${TABLES.personOverrides} FINAL ORDER BY from_one_id`,
    ),
    warehouse.query<BlockRow>(
      `SELECT one_id, other_one_id FROM ${TABLES.identityBlocks} FINAL ORDER BY one_id, other_one_id`,
    ),
    warehouse.query<TombstoneRow>(
      `SELECT one_id, toUnixTimestamp64Milli(deleted_at) AS deleted_at
       FROM ${TABLES.identityTombstones} FINAL ORDER BY one_id`,
    ),
  ]);
  const num = <T extends Record<string, unknown>>(rows: T[], keys: (keyof T)[]): T[] =>
    rows.map((r) => {
      const out = { ...r };
      for (const k of keys) out[k] = Number(r[k]) as T[keyof T];
      return out;
    });
  return {
    schema_version: 1,
    ...collapseGraph(overrides, blocks, new Set(identities.map((r) => r.one_id))),
    identities: num(identities as unknown as Record<string, unknown>[], [
      'first_seen',
      'last_seen',
    ]) as unknown as IdentityRow[],
    tombstones: num(tombstones as unknown as Record<string, unknown>[], [
      'deleted_at',
    ]) as unknown as TombstoneRow[],
  };
}

/**
 * `person_overrides` is written by the loader from the merges topic, so at a
 * restart the newest re-pointing of a merge chain may not be there yet (A -> B
 * while B -> C already is). Follows every chain to its end, and keeps only
 * rows that end at a live person (one that holds identifiers).
 */
export function collapseOverrides(
  rows: readonly OverrideRow[],
  live: ReadonlySet<string>,
): OverrideRow[] {
  const into = new Map(rows.map((r) => [r.from_one_id, r.into_one_id]));
  const out: OverrideRow[] = [];
  for (const r of rows) {
    let target = r.into_one_id;
    for (let hops = 0; into.has(target) && hops < 1000; hops++) target = into.get(target) ?? target;
    if (live.has(target) && target !== r.from_one_id)
      out.push({ from_one_id: r.from_one_id, into_one_id: target });
  }
  return out;
}

/**
 * Overrides collapsed (see {@link collapseOverrides}), and split blocks moved
 * to the live persons their ends resolve to now: a block row is written at the
 * split, and a later merge or delete of one end does not rewrite it. Blocks
 * whose ends are gone, or resolve to one person, are dropped.
 */
export function collapseGraph(
  overrides: readonly OverrideRow[],
  blocks: readonly BlockRow[],
  live: ReadonlySet<string>,
): { overrides: OverrideRow[]; blocks: BlockRow[] } {
  const collapsed = collapseOverrides(overrides, live);
  const into = new Map(collapsed.map((r) => [r.from_one_id, r.into_one_id]));
  const at = (id: string): string | undefined => {
    const v = into.get(id) ?? id;
    return live.has(v) ? v : undefined;
  };
  const seen = new Set<string>();
  const out: BlockRow[] = [];
  for (const b of blocks) {
    const x = at(b.one_id);
    const y = at(b.other_one_id);
    if (x === undefined || y === undefined || x === y) continue;
    const [one_id, other_one_id] = x < y ? [x, y] : [y, x];
    const key = `${one_id}|${other_one_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ one_id, other_one_id });
  }
  out.sort((a, b) =>
    a.one_id === b.one_id
      ? a.other_one_id.localeCompare(b.other_one_id)
      : a.one_id.localeCompare(b.one_id),
  );
  return { overrides: collapsed, blocks: out };
}

/**
 * A cheap fingerprint of the persisted graph (highest row versions and
 * counts): equal fingerprints mean no resolver wrote the graph in between, so
 * a graph loaded at the first one is still current.
 */
export async function graphMark(warehouse: Warehouse): Promise<string> {
  const rows = await warehouse.query<Record<string, unknown>>(
    `SELECT
       (SELECT max(version) FROM ${TABLES.identities}) AS i,
       (SELECT count() FROM ${TABLES.identities}) AS ic,
       (SELECT max(version) FROM ${TABLES.personOverrides}) AS o,
       (SELECT count() FROM ${TABLES.personOverrides}) AS oc,
       (SELECT count() FROM ${TABLES.identityBlocks}) AS b,
       (SELECT count() FROM ${TABLES.identityTombstones}) AS t`,
  );
  return JSON.stringify(rows[0] ?? {});
}
