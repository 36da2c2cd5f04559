import type { AuditEntry } from './audit.js';
import { IdentityError } from './errors.js';
import type {
  DeleteResult,
  GraphStats,
  IdentityGraph,
  MergeRecord,
  PersonView,
  Refusal,
  ResolveInput,
  ResolveKind,
  ResolveOutcome,
  SplitResult,
} from './graph-types.js';
import { sha256Hex } from './hash.js';
import { identifierHash } from './dead-letter-identifiers.js';
import {
  BUILTIN_IDENTIFIER_TYPES,
  HASHED_IDENTIFIER_TYPES,
  isIdentifierType,
  isSha256Hex,
  type Identifier,
  type IdentifierType,
} from './identifier.js';
import { countJunk, junkReason } from './junk.js';
import { allocatePersonId } from './provisional-id.js';
import type { InvalidReason, JunkReason, MergeReason, RefusalReason } from './reason-codes.js';
import {
  compileRules,
  DEFAULT_IDENTITY_RULES,
  type CompiledRules,
  type IdentityRules,
} from './rules.js';
import type {
  BlockRow,
  GraphSnapshot,
  IdentityRow,
  OverrideRow,
  TombstoneRow,
} from './snapshot.js';
import { StringIndex } from './string-index.js';

/** Creates an empty graph with the given rules (default: {@link DEFAULT_IDENTITY_RULES}). */
export function createIdentityGraph(rules: IdentityRules = DEFAULT_IDENTITY_RULES): IdentityGraph {
  return new Graph(rules);
}

/**
 * Rebuilds a graph from `export()` rows (e.g. reloaded from ClickHouse at
 * start). Throws `IdentityError` (`CDP_ERR_IDENTITY_SNAPSHOT_INVALID`) listing
 * every inconsistency. Limits are not re-checked: they apply to new links, so
 * tightening them later does not make a stored graph invalid. The one
 * exception is the hard rule of one `user_id` per person.
 */
export function importIdentityGraph(
  snapshot: GraphSnapshot,
  rules: IdentityRules = DEFAULT_IDENTITY_RULES,
): IdentityGraph {
  const g = new Graph(rules);
  g.load(snapshot);
  return g;
}

const MERGE_REASON_BY_KIND: Readonly<Record<ResolveKind, MergeReason>> = {
  identify: 'identify',
  alias: 'alias',
  track: 'shared_identifier',
  page: 'shared_identifier',
  screen: 'shared_identifier',
  group: 'shared_identifier',
};

/** One usable identifier of the event being resolved. */
interface Candidate {
  readonly identifier: Identifier;
  /** Type index. */
  readonly ti: number;
  readonly rank: number;
  /** The identifier's slot, or -1 when the graph does not know it. */
  readonly slot: number;
}

const INITIAL_CAPACITY = 1024;
const MAX_TYPES = 0xffff;

/**
 * The graph, stored column-wise to keep the heap small and the hot path free
 * of allocations per identifier:
 *
 * - an identifier is a *slot*: its type index, value, person index, first /
 *   last seen and the next slot of the same person live in parallel arrays;
 *   one `Map<value, slot>` per type finds it (no concatenated key strings).
 * - a person is an index: id, first / last slot (a linked list through the
 *   slots, in joining order), size, first / last seen, merged-from ids and
 *   split blocks in parallel arrays; `personOf` maps every live or
 *   merged-away id to its live index, so `canonical` is one lookup.
 * - slots and person indices are never reused, so index order is creation
 *   order: `export()` walks persons in that order, and a graph rebuilt from
 *   the export keeps it.
 */
class Graph implements IdentityGraph {
  readonly rules: IdentityRules;
  private readonly compiled: CompiledRules;

  private readonly typeIndex = new Map<string, number>();
  private readonly types: IdentifierType[] = [];
  private readonly typeRank: number[] = [];
  private readonly typeLimit: number[] = [];
  private readonly typeHashed: boolean[] = [];
  private readonly byType: StringIndex[] = [];
  private readonly userIdType: number;

  private slotCount = 0;
  private liveSlots = 0;
  private slotType = new Uint16Array(INITIAL_CAPACITY);
  private slotPerson = new Int32Array(INITIAL_CAPACITY);
  private slotFirst = new Float64Array(INITIAL_CAPACITY);
  private slotLast = new Float64Array(INITIAL_CAPACITY);
  /** The next slot of the same person, -1 at the end. */
  private slotNext = new Int32Array(INITIAL_CAPACITY);
  private readonly slotValue: string[] = [];

  private personCount = 0;
  private livePersons = 0;
  private readonly personId: string[] = [];
  /** First and last slot of a person's list, -1 when empty. */
  private personHead = new Int32Array(INITIAL_CAPACITY);
  private personTail = new Int32Array(INITIAL_CAPACITY);
  /** Identifiers held; 0 once merged away or deleted. */
  private personSize = new Int32Array(INITIAL_CAPACITY);
  private personFirst = new Float64Array(INITIAL_CAPACITY);
  private personLast = new Float64Array(INITIAL_CAPACITY);
  private readonly personMerged: (string[] | undefined)[] = [];
  private readonly personBlocks: (Set<number> | undefined)[] = [];
  /** Every live or merged-away person id -> live person index (chains collapsed on merge). */
  private readonly personOf = new StringIndex();
  /** Deleted id -> deleted at. */
  private readonly tombstones = new StringIndex();

  private readonly counters = {
    created: 0,
    merges: 0,
    refusals: {} as Partial<Record<RefusalReason | InvalidReason, number>>,
    junk: {} as Partial<Record<JunkReason, number>>,
  };

  readonly isTaken = (oneId: string): boolean =>
    this.personOf.has(oneId) || this.tombstones.has(oneId);

  constructor(rules: IdentityRules) {
    this.rules = rules;
    this.compiled = compileRules(rules);
    for (const t of BUILTIN_IDENTIFIER_TYPES) this.typeOf(t);
    this.userIdType = this.typeIndex.get('user_id')!;
  }

  resolve(input: ResolveInput): ResolveOutcome {
    const { at } = input;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new IdentityError('CDP_ERR_IDENTITY_INVALID_INPUT', ['at: expected epoch ms'], 'at');
    }
    const junk: Partial<Record<JunkReason, number>> = {};
    if (input.junk !== undefined) {
      for (const [reason, n] of Object.entries(input.junk) as [JunkReason, number][]) {
        countJunk(junk, reason, n);
      }
    }
    const refusals: Refusal[] = [];
    const candidates: Candidate[] = [];
    for (const identifier of input.identifiers) this.admit(identifier, candidates, refusals, junk);
    const prev = input.previousId;
    if (prev !== undefined) {
      const type = this.byType[this.userIdType]!.has(prev) ? 'user_id' : 'anonymous_id';
      this.admit({ type, value: prev }, candidates, refusals, junk);
    }
    // Stable insertion sort by rank: events carry a handful of identifiers.
    for (let i = 1; i < candidates.length; i++) {
      const c = candidates[i]!;
      let j = i - 1;
      while (j >= 0 && candidates[j]!.rank > c.rank) {
        candidates[j + 1] = candidates[j]!;
        j--;
      }
      candidates[j + 1] = c;
    }

    const { persons, touched, fresh } = this.choose(candidates, refusals);
    if (persons.length === 0 && fresh.length === 0) {
      this.countOutcome(refusals, junk);
      return {
        oneId: undefined,
        created: false,
        merges: [],
        refusals,
        added: [],
        restamp: false,
        junk,
        audit: [],
      };
    }

    let survivor: number;
    let created = false;
    const merges: MergeRecord[] = [];
    const audit: AuditEntry[] = [];
    const messageId = input.messageId;
    if (persons.length === 0) {
      survivor = this.newPerson(allocatePersonId(fresh[0]!.identifier, this.isTaken), at);
      created = true;
      this.counters.created++;
    } else {
      if (persons.length > 1) persons.sort(this.earlierFirst);
      survivor = persons[0]!;
      const into = this.personId[survivor]!;
      const reason = MERGE_REASON_BY_KIND[input.kind] ?? 'shared_identifier';
      for (let i = 1; i < persons.length; i++) {
        const from = this.personId[persons[i]!]!;
        this.mergeInto(survivor, persons[i]!);
        merges.push({ from, into, reason });
        audit.push(
          withMessageId({ at, kind: 'merge', oneId: into, otherId: from, reason }, messageId),
        );
      }
      this.counters.merges += merges.length;
    }
    const added: Identifier[] = [];
    for (const c of fresh) {
      this.byType[c.ti]!.set(
        c.identifier.value,
        this.newSlot(c.ti, c.identifier.value, survivor, at),
      );
      added.push(c.identifier);
    }
    for (const s of touched) {
      if (at < this.slotFirst[s]!) this.slotFirst[s] = at;
      if (at > this.slotLast[s]!) this.slotLast[s] = at;
    }
    if (at < this.personFirst[survivor]!) this.personFirst[survivor] = at;
    if (at > this.personLast[survivor]!) this.personLast[survivor] = at;

    const oneId = this.personId[survivor]!;
    let restamp = false;
    const stamped = input.stamped;
    if (stamped !== undefined && stamped !== oneId) {
      const stampedPerson = this.personOf.get(stamped);
      if (stampedPerson === undefined && !this.tombstones.has(stamped)) {
        // Only events carrying this event's top identifier can hold the id:
        // they all belong here, so the id joins the ids merged into the person.
        this.personOf.set(stamped, survivor);
        (this.personMerged[survivor] ??= []).push(stamped);
        merges.push({ from: stamped, into: oneId, reason: 'provisional_id' });
        audit.push(
          withMessageId(
            { at, kind: 'merge', oneId, otherId: stamped, reason: 'provisional_id' },
            messageId,
          ),
        );
        this.counters.merges++;
      } else if (stampedPerson !== survivor) {
        restamp = true;
      }
    }
    for (const r of refusals) {
      audit.push(
        withMessageId(
          {
            at,
            kind: 'refusal',
            oneId,
            ...(r.otherId === undefined ? {} : { otherId: r.otherId }),
            identifierType: r.identifierType,
            identifierHash: r.identifierHash,
            reason: r.reason,
            ...(r.limitType === undefined ? {} : { limitType: r.limitType }),
          },
          messageId,
        ),
      );
    }
    this.countOutcome(refusals, junk);
    return { oneId, created, merges, refusals, added, restamp, junk, audit };
  }

  /**
   * Greedy in priority order: each candidate joins unless linking it, with
   * everything taken so far, would break a rule; then it is refused. The first
   * one is always taken. Returns the persons reached (in the order reached),
   * the known slots touched and the new candidates taken.
   */
  private choose(
    candidates: readonly Candidate[],
    refusals: Refusal[],
  ): { persons: number[]; touched: number[]; fresh: Candidate[] } {
    const persons: number[] = [];
    const touched: number[] = [];
    const fresh: Candidate[] = [];
    let union: Map<number, number> | undefined;
    for (const c of candidates) {
      const first = persons.length === 0 && fresh.length === 0;
      if (c.slot < 0) {
        if (!first) {
          union ??= this.unionOf(persons, fresh);
          const n = (union.get(c.ti) ?? 0) + 1;
          if (n > this.typeLimit[c.ti]!) {
            refusals.push(this.limitRefusal(c, c.ti, -1));
            continue;
          }
          union.set(c.ti, n);
        }
        fresh.push(c);
        continue;
      }
      const p = this.slotPerson[c.slot]!;
      if (persons.includes(p)) {
        touched.push(c.slot);
        continue;
      }
      if (!first) {
        if (persons.some((s) => this.personBlocks[s]?.has(p) === true)) {
          refusals.push({
            identifierType: c.identifier.type,
            identifierHash: identifierHash(c.identifier),
            reason: 'split_block',
            otherId: this.personId[p]!,
          });
          continue;
        }
        union ??= this.unionOf(persons, fresh);
        const counts = this.countsOf(p);
        let broken = -1;
        for (const [t, n] of counts) {
          if ((union.get(t) ?? 0) + n > this.typeLimit[t]!) {
            broken = t;
            break;
          }
        }
        if (broken >= 0) {
          refusals.push(this.limitRefusal(c, broken, p));
          continue;
        }
        for (const [t, n] of counts) union.set(t, (union.get(t) ?? 0) + n);
      }
      persons.push(p);
      touched.push(c.slot);
    }
    return { persons, touched, fresh };
  }

  split(oneId: string, identifiers: readonly Identifier[], at: number): SplitResult {
    const p = this.personOf.get(oneId);
    if (p === undefined) return { ok: false, reason: 'unknown_person' };
    const moving = new Set<number>();
    for (const identifier of identifiers) {
      const slot = this.slotOf(identifier);
      if (slot < 0 || this.slotPerson[slot] !== p) {
        return { ok: false, reason: 'identifier_not_in_person', identifier };
      }
      moving.add(slot);
    }
    if (moving.size === 0) return { ok: false, reason: 'nothing_to_split' };
    if (moving.size === this.personSize[p]) return { ok: false, reason: 'split_all' };

    const slots = this.slotsOf(p);
    const movedSlots = slots.filter((s) => moving.has(s));
    this.relink(
      p,
      slots.filter((s) => !moving.has(s)),
    );
    const moved = movedSlots.map((s) => this.identifierAt(s));
    let top = 0;
    for (let i = 1; i < movedSlots.length; i++) {
      if (
        this.typeRank[this.slotType[movedSlots[i]!]!]! <
        this.typeRank[this.slotType[movedSlots[top]!]!]!
      )
        top = i;
    }
    const n = this.newPerson(allocatePersonId(moved[top]!, this.isTaken), at);
    for (const s of movedSlots) this.slotPerson[s] = n;
    this.relink(n, movedSlots);
    (this.personBlocks[p] ??= new Set()).add(n);
    (this.personBlocks[n] ??= new Set()).add(p);
    const from = this.personId[p]!;
    const into = this.personId[n]!;
    const audit: AuditEntry[] = moved.map((m) => ({
      at,
      kind: 'split',
      oneId: from,
      otherId: into,
      identifierType: m.type,
      identifierHash: identifierHash(m),
      reason: 'manual_split',
    }));
    return { ok: true, from, oneId: into, moved, audit };
  }

  delete(oneId: string, at: number): DeleteResult {
    const p = this.personOf.get(oneId);
    if (p === undefined) return { ok: false, reason: 'unknown_person' };
    const slots = this.slotsOf(p);
    const removed = slots.map((s) => this.identifierAt(s));
    for (const s of slots) {
      this.byType[this.slotType[s]!]!.delete(this.slotValue[s]!);
      // Drop the value itself too: erasure covers memory, not just the index.
      this.slotValue[s] = '';
      this.slotPerson[s] = -1;
    }
    this.liveSlots -= slots.length;
    const id = this.personId[p]!;
    const retiredIds = [id, ...(this.personMerged[p] ?? [])];
    for (const r of retiredIds) {
      this.personOf.delete(r);
      this.tombstones.set(r, at);
    }
    for (const b of this.personBlocks[p] ?? []) this.personBlocks[b]?.delete(p);
    this.retire(p);
    return {
      ok: true,
      oneId: id,
      removed,
      retiredIds,
      audit: [{ at, kind: 'delete', oneId: id, reason: 'gdpr_delete' }],
    };
  }

  lookup(identifier: Identifier): string | undefined {
    const slot = this.slotOf(identifier);
    return slot < 0 ? undefined : this.personId[this.slotPerson[slot]!];
  }

  canonical(oneId: string): string | undefined {
    const p = this.personOf.get(oneId);
    return p === undefined ? undefined : this.personId[p];
  }

  person(oneId: string): PersonView | undefined {
    const p = this.personOf.get(oneId);
    if (p === undefined) return undefined;
    return {
      oneId: this.personId[p]!,
      firstSeen: this.personFirst[p]!,
      lastSeen: this.personLast[p]!,
      identifiers: this.slotsOf(p).map((s) => ({
        ...this.identifierAt(s),
        firstSeen: this.slotFirst[s]!,
        lastSeen: this.slotLast[s]!,
      })),
      mergedFrom: [...(this.personMerged[p] ?? [])],
      blockedWith: [...(this.personBlocks[p] ?? [])].map((b) => this.personId[b]!).sort(),
    };
  }

  stats(): GraphStats {
    return {
      persons: this.livePersons,
      identifiers: this.liveSlots,
      mergedIds: this.personOf.size - this.livePersons,
      tombstones: this.tombstones.size,
      created: this.counters.created,
      merges: this.counters.merges,
      refusals: { ...this.counters.refusals },
      junk: { ...this.counters.junk },
    };
  }

  export(): GraphSnapshot {
    const identities: IdentityRow[] = [];
    const overrides: OverrideRow[] = [];
    const blocks: BlockRow[] = [];
    for (let p = 0; p < this.personCount; p++) {
      if (this.personSize[p] === 0) continue;
      const one_id = this.personId[p]!;
      for (let s = this.personHead[p]!; s >= 0; s = this.slotNext[s]!) {
        identities.push({
          one_id,
          id_type: this.types[this.slotType[s]!]!,
          id_value: this.slotValue[s]!,
          first_seen: this.slotFirst[s]!,
          last_seen: this.slotLast[s]!,
        });
      }
      for (const m of this.personMerged[p] ?? [])
        overrides.push({ from_one_id: m, into_one_id: one_id });
      for (const b of this.personBlocks[p] ?? []) {
        const other = this.personId[b]!;
        if (one_id < other) blocks.push({ one_id, other_one_id: other });
      }
    }
    blocks.sort(
      (a, b) =>
        compareStrings(a.one_id, b.one_id) || compareStrings(a.other_one_id, b.other_one_id),
    );
    const tombstones: TombstoneRow[] = [];
    for (const [one_id, deleted_at] of this.tombstones.entries())
      tombstones.push({ one_id, deleted_at });
    return { schema_version: 1, identities, overrides, blocks, tombstones };
  }

  /** Fills an empty graph from a snapshot; see {@link importIdentityGraph}. */
  load(snapshot: GraphSnapshot): void {
    const issues: string[] = [];
    if (typeof snapshot !== 'object' || snapshot === null || snapshot.schema_version !== 1) {
      throw new IdentityError('CDP_ERR_IDENTITY_SNAPSHOT_INVALID', ['schema_version: expected 1']);
    }
    for (const name of ['identities', 'overrides', 'blocks', 'tombstones'] as const) {
      if (!Array.isArray(snapshot[name])) issues.push(`${name}: expected an array`);
    }
    if (issues.length > 0) throw new IdentityError('CDP_ERR_IDENTITY_SNAPSHOT_INVALID', issues);

    snapshot.identities.forEach((row, i) => {
      const problem = this.loadIdentity(row);
      if (problem !== undefined) issues.push(`identities[${i}]${problem}`);
    });
    snapshot.overrides.forEach((row, i) => {
      const into = this.personOf.get(row.into_one_id);
      if (into === undefined || this.personId[into] !== row.into_one_id) {
        issues.push(`overrides[${i}].into_one_id: not a live person (chains must be collapsed)`);
      } else if (
        typeof row.from_one_id !== 'string' ||
        row.from_one_id === '' ||
        this.isTaken(row.from_one_id)
      ) {
        issues.push(`overrides[${i}].from_one_id: empty, live or listed twice`);
      } else {
        this.personOf.set(row.from_one_id, into);
        (this.personMerged[into] ??= []).push(row.from_one_id);
      }
    });
    snapshot.blocks.forEach((row, i) => {
      const a = this.personOf.get(row.one_id);
      const b = this.personOf.get(row.other_one_id);
      if (
        a === undefined ||
        b === undefined ||
        a === b ||
        this.personId[a] !== row.one_id ||
        this.personId[b] !== row.other_one_id
      ) {
        issues.push(`blocks[${i}]: must name two different live persons`);
      } else {
        (this.personBlocks[a] ??= new Set()).add(b);
        (this.personBlocks[b] ??= new Set()).add(a);
      }
    });
    snapshot.tombstones.forEach((row, i) => {
      if (typeof row.one_id !== 'string' || row.one_id === '' || this.isTaken(row.one_id)) {
        issues.push(`tombstones[${i}].one_id: empty, live, merged or listed twice`);
      } else if (!Number.isFinite(row.deleted_at)) {
        issues.push(`tombstones[${i}].deleted_at: expected epoch ms`);
      } else {
        this.tombstones.set(row.one_id, row.deleted_at);
      }
    });
    if (issues.length > 0) throw new IdentityError('CDP_ERR_IDENTITY_SNAPSHOT_INVALID', issues);
  }

  /** Adds one identity row; returns what is wrong with it, if anything. */
  private loadIdentity(row: IdentityRow): string | undefined {
    if (typeof row.one_id !== 'string' || row.one_id === '') return '.one_id: expected an id';
    const ti = typeof row.id_type === 'string' ? this.typeOf(row.id_type) : -1;
    if (ti < 0) return '.id_type: unknown identifier type';
    const value = row.id_value;
    if (typeof value !== 'string' || value === '') return '.id_value: expected a non-empty string';
    if (this.typeHashed[ti] === true && !isSha256Hex(value))
      return `.id_value: ${row.id_type} must be stored as SHA-256 hex`;
    if (
      !Number.isFinite(row.first_seen) ||
      !Number.isFinite(row.last_seen) ||
      row.first_seen > row.last_seen
    ) {
      return ': first_seen and last_seen must be epoch ms, first <= last';
    }
    if (this.byType[ti]!.has(value)) return ': identifier listed twice';
    let p = this.personOf.get(row.one_id);
    if (p === undefined) p = this.newPerson(row.one_id, row.first_seen);
    if (ti === this.userIdType && this.slotsOf(p).some((s) => this.slotType[s] === ti)) {
      return `: person ${row.one_id} would hold two user ids`;
    }
    const slot = this.newSlot(ti, value, p, row.first_seen);
    this.slotLast[slot] = row.last_seen;
    this.byType[ti]!.set(value, slot);
    if (row.first_seen < this.personFirst[p]!) this.personFirst[p] = row.first_seen;
    if (row.last_seen > this.personLast[p]!) this.personLast[p] = row.last_seen;
    return undefined;
  }

  /** Validates one identifier of an event and queues it as a candidate (first occurrence wins). */
  private admit(
    identifier: Identifier,
    candidates: Candidate[],
    refusals: Refusal[],
    junk: Partial<Record<JunkReason, number>>,
  ): void {
    const { type, value } = identifier;
    const ti = typeof type === 'string' ? this.typeOf(type) : -1;
    let invalid: InvalidReason | undefined;
    if (ti < 0) invalid = 'identifier_type_unknown';
    else if (typeof value !== 'string') invalid = 'invalid_type';
    else if (value.length > this.rules.maxValueLength) invalid = 'value_too_long';
    else if (this.typeHashed[ti]!) {
      if (!isSha256Hex(value)) invalid = 'not_hashed';
    } else {
      const j = junkReason(value, this.compiled.blocked);
      if (j !== undefined) {
        countJunk(junk, j);
        return;
      }
    }
    if (invalid !== undefined) {
      refusals.push({
        identifierType: type,
        identifierHash: sha256Hex(String(value)),
        reason: invalid,
      });
      return;
    }
    for (const c of candidates) if (c.ti === ti && c.identifier.value === value) return;
    candidates.push({
      identifier,
      ti,
      rank: this.typeRank[ti]!,
      slot: this.byType[ti]!.get(value) ?? -1,
    });
  }

  /** The index of an identifier type, registering valid new ones; -1 if invalid. */
  private typeOf(type: string): number {
    const known = this.typeIndex.get(type);
    if (known !== undefined) return known;
    if (!isIdentifierType(type) || this.types.length >= MAX_TYPES) return -1;
    const ti = this.types.length;
    this.types.push(type);
    this.typeRank.push(this.compiled.rank(type));
    this.typeLimit.push(this.compiled.limit(type));
    this.typeHashed.push(HASHED_IDENTIFIER_TYPES.has(type));
    this.byType.push(new StringIndex());
    this.typeIndex.set(type, ti);
    return ti;
  }

  private slotOf(identifier: Identifier): number {
    const ti = this.typeIndex.get(identifier.type);
    return ti === undefined ? -1 : (this.byType[ti]!.get(identifier.value) ?? -1);
  }

  private identifierAt(slot: number): Identifier {
    return { type: this.types[this.slotType[slot]!]!, value: this.slotValue[slot]! };
  }

  /** Identifiers per type index of a person. */
  private countsOf(p: number): Map<number, number> {
    const counts = new Map<number, number>();
    for (let s = this.personHead[p]!; s >= 0; s = this.slotNext[s]!) {
      const t = this.slotType[s]!;
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    return counts;
  }

  /** Identifiers per type index of the persons and new identifiers taken so far. */
  private unionOf(persons: readonly number[], fresh: readonly Candidate[]): Map<number, number> {
    const union = new Map<number, number>();
    for (const p of persons) {
      for (let s = this.personHead[p]!; s >= 0; s = this.slotNext[s]!) {
        const t = this.slotType[s]!;
        union.set(t, (union.get(t) ?? 0) + 1);
      }
    }
    for (const c of fresh) union.set(c.ti, (union.get(c.ti) ?? 0) + 1);
    return union;
  }

  private limitRefusal(c: Candidate, limitTi: number, other: number): Refusal {
    const limitType = this.types[limitTi]!;
    return {
      identifierType: c.identifier.type,
      identifierHash: identifierHash(c.identifier),
      reason: limitType === 'user_id' ? 'user_id_conflict' : 'limit_exceeded',
      ...(other < 0 ? {} : { otherId: this.personId[other]! }),
      limitType,
    };
  }

  /** Survivor order: earliest first seen, then the smaller id. */
  private readonly earlierFirst = (a: number, b: number): number =>
    this.personFirst[a]! - this.personFirst[b]! ||
    compareStrings(this.personId[a]!, this.personId[b]!);

  /** A new identifier slot, appended to the person's list. */
  private newSlot(ti: number, value: string, person: number, at: number): number {
    const s = this.slotCount++;
    if (s === this.slotType.length) {
      const cap = s * 2;
      this.slotType = grow(this.slotType, new Uint16Array(cap));
      this.slotPerson = grow(this.slotPerson, new Int32Array(cap));
      this.slotFirst = grow(this.slotFirst, new Float64Array(cap));
      this.slotLast = grow(this.slotLast, new Float64Array(cap));
      this.slotNext = grow(this.slotNext, new Int32Array(cap));
    }
    this.slotType[s] = ti;
    this.slotValue.push(value);
    this.slotPerson[s] = person;
    this.slotFirst[s] = at;
    this.slotLast[s] = at;
    this.slotNext[s] = -1;
    if (this.personHead[person]! < 0) this.personHead[person] = s;
    else this.slotNext[this.personTail[person]!] = s;
    this.personTail[person] = s;
    this.personSize[person]!++;
    this.liveSlots++;
    return s;
  }

  /** A person's slots in joining order. */
  private slotsOf(p: number): number[] {
    const slots: number[] = [];
    for (let s = this.personHead[p]!; s >= 0; s = this.slotNext[s]!) slots.push(s);
    return slots;
  }

  /** Makes `slots` (in this order) the person's list and recomputes its first / last seen. */
  private relink(p: number, slots: readonly number[]): void {
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      this.slotNext[s] = i + 1 < slots.length ? slots[i + 1]! : -1;
      if (this.slotFirst[s]! < first) first = this.slotFirst[s]!;
      if (this.slotLast[s]! > last) last = this.slotLast[s]!;
    }
    this.personHead[p] = slots[0] ?? -1;
    this.personTail[p] = slots[slots.length - 1] ?? -1;
    this.personSize[p] = slots.length;
    this.personFirst[p] = first;
    this.personLast[p] = last;
  }

  private newPerson(id: string, at: number): number {
    const p = this.personCount++;
    if (p === this.personFirst.length) {
      const cap = p * 2;
      this.personFirst = grow(this.personFirst, new Float64Array(cap));
      this.personLast = grow(this.personLast, new Float64Array(cap));
      this.personHead = grow(this.personHead, new Int32Array(cap));
      this.personTail = grow(this.personTail, new Int32Array(cap));
      this.personSize = grow(this.personSize, new Int32Array(cap));
    }
    this.personId.push(id);
    this.personHead[p] = -1;
    this.personTail[p] = -1;
    this.personSize[p] = 0;
    this.personMerged.push(undefined);
    this.personBlocks.push(undefined);
    this.personFirst[p] = at;
    this.personLast[p] = at;
    this.personOf.set(id, p);
    this.livePersons++;
    return p;
  }

  /**
   * Moves every identifier of `from` to `into` and retires `from`. Costs the
   * size of `from` (bounded by the limits) plus the ids merged into it: every
   * retired id is re-pointed now, so `canonical` and `lookup` stay one hop.
   */
  private mergeInto(into: number, from: number): void {
    for (let s = this.personHead[from]!; s >= 0; s = this.slotNext[s]!) this.slotPerson[s] = into;
    // Both lists are non-empty: live persons hold at least one identifier.
    this.slotNext[this.personTail[into]!] = this.personHead[from]!;
    this.personTail[into] = this.personTail[from]!;
    this.personSize[into] = this.personSize[into]! + this.personSize[from]!;
    if (this.personFirst[from]! < this.personFirst[into]!)
      this.personFirst[into] = this.personFirst[from]!;
    if (this.personLast[from]! > this.personLast[into]!)
      this.personLast[into] = this.personLast[from]!;
    const merged = (this.personMerged[into] ??= []);
    const fromId = this.personId[from]!;
    merged.push(fromId);
    this.personOf.set(fromId, into);
    for (const m of this.personMerged[from] ?? []) {
      merged.push(m);
      this.personOf.set(m, into);
    }
    const fromBlocks = this.personBlocks[from];
    if (fromBlocks !== undefined) {
      const blocks = (this.personBlocks[into] ??= new Set());
      for (const b of fromBlocks) {
        const other = this.personBlocks[b]!;
        other.delete(from);
        other.add(into);
        blocks.add(b);
      }
    }
    this.retire(from);
  }

  /** Frees what a merged-away or deleted person index held. */
  private retire(p: number): void {
    this.personHead[p] = -1;
    this.personTail[p] = -1;
    this.personSize[p] = 0;
    this.personMerged[p] = undefined;
    this.personBlocks[p] = undefined;
    this.livePersons--;
  }

  private countOutcome(
    refusals: readonly Refusal[],
    junk: Partial<Record<JunkReason, number>>,
  ): void {
    for (const r of refusals)
      this.counters.refusals[r.reason] = (this.counters.refusals[r.reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(junk) as [JunkReason, number][]) {
      countJunk(this.counters.junk, reason, n);
    }
  }
}

function grow<T extends Uint16Array | Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SHA-256 hex of the normalised value: email and phone are stored hashed already. */
function withMessageId(entry: AuditEntry, messageId: string | undefined): AuditEntry {
  return messageId === undefined ? entry : { ...entry, messageId };
}
