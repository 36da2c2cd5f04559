import { CdpError, type Logger } from '@cdp/core';
import { orderDefinitions, outputsOf, type StoredDefinition, type TagValueType } from '@cdp/tags';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';
import type { DefinitionStore } from './definition-store.js';
import type { RunReport } from './run-report.js';
import { distribution, personTags, type Distribution } from './tag-queries.js';

/** A definition as the API shows it. */
export interface TagView {
  readonly name: string;
  readonly type: string;
  readonly enabled: boolean;
  readonly builtin: boolean;
  readonly version: number;
  readonly updatedAt: string;
  /** The tags it produces, with their value types. */
  readonly tags: readonly { name: string; valueType: TagValueType }[];
  readonly definition: unknown;
}

export interface TagRunView {
  readonly runId: string;
  readonly kind: string;
  readonly status: string;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly people: number;
  readonly changes: number;
  readonly durationMs: number;
  readonly error: string;
}

/** What the API's tag routes call: definitions, reads, and runs on demand. */
export interface TagService {
  list(): Promise<TagView[]>;
  get(name: string): Promise<TagView>;
  create(raw: unknown): Promise<TagView>;
  replace(name: string, raw: unknown): Promise<TagView>;
  remove(name: string): Promise<void>;
  /** Runs now and answers when done (incremental unless `full`). */
  recompute(opts: { full?: boolean }): Promise<RunReport>;
  distribution(tag: string): Promise<Distribution>;
  /** A person's tags; `personIds`: the canonical id first, then ids merged into it. */
  personTags(personIds: readonly string[]): Promise<Record<string, unknown>>;
  runs(limit: number): Promise<TagRunView[]>;
}

export function tagView(s: StoredDefinition): TagView {
  return {
    name: s.definition.name,
    type: s.definition.type,
    enabled: s.definition.enabled !== false,
    builtin: s.builtin,
    version: s.version,
    updatedAt: s.updatedAt,
    tags: outputsOf(s.definition),
    definition: s.definition,
  };
}

export function createTagService(deps: {
  readonly warehouse: Warehouse;
  readonly definitions: DefinitionStore;
  readonly logger: Logger;
  /** The engine's run (in process), or a client of the tag engine service. */
  readonly recompute: (opts: { full?: boolean }) => Promise<RunReport>;
}): TagService {
  const { warehouse: wh, definitions } = deps;
  const enabled = async (): Promise<ReturnType<typeof orderDefinitions>> =>
    orderDefinitions((await definitions.list()).map((d) => d.definition));
  return {
    async list() {
      return (await definitions.list()).map(tagView);
    },
    async get(name) {
      return tagView(await definitions.get(name));
    },
    async create(raw) {
      return tagView(await definitions.save(raw, 'create'));
    },
    async replace(name, raw) {
      return tagView(await definitions.save(raw, 'replace', name));
    },
    async remove(name) {
      await definitions.remove(name);
    },
    recompute: deps.recompute,
    async distribution(tag) {
      const defs = await enabled();
      const out = defs.flatMap((d) => outputsOf(d)).find((o) => o.name === tag);
      if (!out) {
        await definitions.get(tag);
        throw new CdpError('CDP_ERR_TAG_NOT_FOUND', {
          field: 'name',
          message: `Tag ${tag} is disabled: it has no values`,
        });
      }
      return distribution(wh, tag, out.valueType);
    },
    async personTags(personIds) {
      return personTags(wh, await enabled(), personIds);
    },
    async runs(limit) {
      const rows = await wh.query<{
        run_id: string;
        kind: string;
        status: string;
        started_at: string;
        finished_at: string | null;
        people: string;
        changes: string;
        duration_ms: string;
        error: string;
      }>(
        `SELECT toString(run_id) AS run_id, kind, status, toString(started_at) AS started_at,
           if(finished_at IS NULL, NULL, toString(finished_at)) AS finished_at,
           toString(people) AS people, toString(changes) AS changes, toString(duration_ms) AS duration_ms, error
         FROM ${TABLES.tagRuns} FINAL ORDER BY run_id DESC LIMIT {limit:UInt32}`,
        { limit },
      );
      return rows.map((r) => ({
        runId: r.run_id,
        kind: r.kind,
        status: r.status,
        startedAt: clickHouseTimeIso(r.started_at),
        finishedAt: r.finished_at === null ? null : clickHouseTimeIso(r.finished_at),
        people: Number(r.people),
        changes: Number(r.changes),
        durationMs: Number(r.duration_ms),
        error: r.error,
      }));
    },
  };
}
