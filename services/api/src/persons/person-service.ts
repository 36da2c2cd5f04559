import { randomUUID } from 'node:crypto';
import { CdpError, type Logger } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import {
  DEFAULT_IDENTITY_RULES,
  sha256Hex,
  type DeleteCommand,
  type Identifier,
  type IdentityRules,
  type LinkMessage,
  type OperationFailure,
  type SplitCommand,
} from '@cdp/identity';
import { eventMoveRule } from './event-moves.js';
import { exportLines } from './export-lines.js';
import { parseIdentifier, parseSplitBody } from './identifier-input.js';
import { hashesOf, type AuditRecord, type EventCursor, type PersonStore } from './person-store.js';
import {
  auditView,
  eventView,
  identifierView,
  isHashedType,
  type PersonView,
} from './person-view.js';
import { foldTraits } from './traits.js';

/** Most audit rows in a person's answer (the latest; the export has them all). */
export const PERSON_AUDIT_LIMIT = 1000;

/** Events per query while exporting. */
export const EXPORT_PAGE_SIZE = 5000;

/** An identifier a split moved, as stored. */
export interface MovedIdentifier {
  readonly type: string;
  readonly value: string;
  readonly hashed: boolean;
}

/** `POST /v1/persons/:oneId/split`. */
export interface SplitAnswer {
  /** The person split (canonical id). */
  readonly from: string;
  /** The new person holding the moved identifiers. */
  readonly oneId: string;
  readonly moved: readonly MovedIdentifier[];
  /** Events re-stamped to the new person (see `event-moves.ts` for which). */
  readonly eventsMoved: number;
}

/** `DELETE /v1/persons/:oneId`. */
export interface DeleteAnswer {
  /** The canonical id of the deleted person. */
  readonly deleted: string;
  /** Every id that resolved to it; none will be used again. */
  readonly retiredIds: readonly string[];
  readonly eventsDeleted: number;
}

export interface PersonServiceDeps {
  readonly store: PersonStore;
  readonly bus: Pick<Bus, 'produce' | 'purgeConsumed'>;
  /** `topics.identityLinks`: commands to the resolver. */
  readonly linksTopic: string;
  /**
   * The topics whose records name people (events, dead letters, links): an
   * erase deletes what every consumer has read of them (`Bus.purgeConsumed`).
   */
  readonly erasedTopics: readonly string[];
  /** Epoch ms, for the commands' `at`. */
  readonly now: () => number;
  readonly logger?: Logger | undefined;
  /** Normalisation rules; must match the resolver's (default `DEFAULT_IDENTITY_RULES`). */
  readonly rules?: IdentityRules | undefined;
  /** How often to look for the resolver's answer (default 100 ms). */
  readonly pollIntervalMs?: number | undefined;
  /** How long to wait for it before answering 503 (default 15,000 ms). */
  readonly answerTimeoutMs?: number | undefined;
  /** Request ids (default `crypto.randomUUID`). */
  readonly newRequestId?: (() => string) | undefined;
  /** Waits (default `setTimeout`); tests pass a fake with `monotonic`. */
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  /** A monotonic clock in ms for the answer deadline (default `performance.now`). */
  readonly monotonic?: (() => number) | undefined;
  /**
   * After a delete, erase again this much later (default 30,000 ms; 0: not):
   * an event of the person in flight during the delete (stamped, not yet
   * loaded, the loader's tombstone check just before it) is gone then too.
   */
  readonly eraseAgainAfterMs?: number | undefined;
}

/** The Person API's operations; routes only parse HTTP and call these. */
export interface PersonService {
  get(oneId: string, eventsLimit: number): Promise<PersonView>;
  lookup(type: unknown, value: unknown, eventsLimit: number): Promise<PersonView>;
  split(oneId: string, body: Record<string, unknown>): Promise<SplitAnswer>;
  remove(oneId: string): Promise<DeleteAnswer>;
  /** Checks the person exists (404 otherwise), then yields the NDJSON export. */
  exportPerson(oneId: string): Promise<AsyncIterable<string>>;
  /** Runs the second erase passes still pending now, and no later ones (the app closes). */
  close(): Promise<void>;
}

const FAILURE_TEXT: Readonly<Record<OperationFailure, string>> = {
  unknown_person: 'no live person has this id',
  identifier_not_in_person: 'an identifier to split off is not one of the person’s',
  nothing_to_split: 'no identifier to split off',
  split_all: 'every identifier of the person was given: nothing would remain',
};

const failureText = (reason: string): string =>
  Object.hasOwn(FAILURE_TEXT, reason) ? FAILURE_TEXT[reason as OperationFailure] : reason;

const notFound = (oneId: string): CdpError =>
  new CdpError('CDP_ERR_API_NOT_FOUND', {
    field: 'oneId',
    message: `No person with id ${oneId}`,
  });

/** The audit table's identifier hash: SHA-256 hex of the stored value, which already is one for email and phone. */
export function auditHash(id: Identifier): string {
  return isHashedType(id.type) ? id.value : sha256Hex(id.value);
}

const sleepFor = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The Person API. Reads go to the warehouse; splits and deletes go to the
 * resolver as commands on `cdp.identity.links` (it owns the graph), and the
 * service waits for its answer in `identity_audit` before re-stamping or
 * erasing events in the warehouse.
 */
export function createPersonService(deps: PersonServiceDeps): PersonService {
  const { store } = deps;
  const rules = deps.rules ?? DEFAULT_IDENTITY_RULES;
  const pollMs = deps.pollIntervalMs ?? 100;
  const timeoutMs = deps.answerTimeoutMs ?? 15_000;
  const newRequestId = deps.newRequestId ?? randomUUID;
  const sleep = deps.sleep ?? sleepFor;
  const monotonic = deps.monotonic ?? (() => performance.now());
  /** Second erase passes not run yet, by timer. */
  const pending = new Map<NodeJS.Timeout, () => Promise<void>>();

  /** The canonical id of `oneId` and every id that resolves to it (canonical first). */
  async function idsOf(oneId: string): Promise<{ canonical: string; ids: string[] }> {
    // Events whose identifiers were all junk carry an empty one_id: they are
    // nobody's, and must never be read or erased as one person.
    if (oneId.trim() === '')
      throw new CdpError('CDP_ERR_API_BAD_REQUEST', {
        field: 'oneId',
        message: 'oneId must not be empty',
      });
    const canonical = await store.canonicalOf(oneId);
    return { canonical, ids: [canonical, ...(await store.mergedInto(canonical))] };
  }

  async function load(
    requested: string,
    eventsLimit: number,
    showRequested: boolean,
  ): Promise<{ view: PersonView; ids: string[] }> {
    const { canonical, ids } = await idsOf(requested);
    const [identifiers, stats, traits, events, audit] = await Promise.all([
      store.identifiers(ids),
      store.eventStats(ids),
      store.identifyTraits(ids),
      eventsLimit === 0 ? Promise.resolve([]) : store.recentEvents(ids, eventsLimit),
      store.audit(ids, PERSON_AUDIT_LIMIT),
    ]);
    if (identifiers.length === 0 && stats.count === 0) throw notFound(requested);
    const view: PersonView = {
      oneId: canonical,
      ...(showRequested && requested !== canonical ? { requested } : {}),
      mergedIds: ids.slice(1),
      identifiers: identifiers.map(identifierView),
      traits: foldTraits(traits),
      firstSeen: stats.firstSeen ?? null,
      lastSeen: stats.lastSeen ?? null,
      eventCount: stats.count,
      events: events.map(eventView),
      audit: audit.map(auditView),
    };
    return { view, ids };
  }

  async function send(command: LinkMessage): Promise<void> {
    // One key: the links topic has one partition, and commands keep their order.
    await deps.bus.produce(deps.linksTopic, [{ key: 'identity', value: JSON.stringify(command) }]);
  }

  /** Polls `identity_audit` for the resolver's answer to a command. */
  async function answerOf(
    requestId: string,
    kind: 'split' | 'delete',
    at: number,
  ): Promise<AuditRecord[]> {
    // The resolver dates its answer with the command's `at`; the bound only
    // prunes audit partitions, so a day of slack costs nothing.
    const since = new Date(at - 86_400_000).toISOString();
    const deadline = monotonic() + timeoutMs;
    for (;;) {
      const rows = await store.auditOfRequest(requestId, kind, since);
      if (rows.length > 0) return rows;
      if (monotonic() + pollMs > deadline) break;
      await sleep(pollMs);
    }
    deps.logger?.warn({ requestId, kind, timeoutMs }, 'person_command_unanswered');
    throw new CdpError('CDP_ERR_IDENTITY_UNAVAILABLE', {
      retryable: true,
      message: `The identity resolver did not answer the ${kind} within ${timeoutMs / 1000} s; it is queued (request ${requestId}) and applies when the resolver runs. Check the person again before retrying.`,
    });
  }

  const refused = (op: string, reason: string): CdpError =>
    new CdpError('CDP_ERR_IDENTITY_OPERATION_REFUSED', {
      message: `The identity resolver refused the ${op}: ${failureText(reason)} (${reason})`,
    });

  return {
    async get(oneId, eventsLimit) {
      return (await load(oneId, eventsLimit, true)).view;
    },

    async lookup(type, value, eventsLimit) {
      const id = parseIdentifier(type, value, rules);
      const oneId = await store.personOf(id.type, id.value);
      if (oneId === undefined)
        throw new CdpError('CDP_ERR_API_NOT_FOUND', {
          field: 'value',
          message: `No person has this ${id.type}`,
        });
      return (await load(oneId, eventsLimit, false)).view;
    },

    async split(oneId, body) {
      const identifiers = parseSplitBody(body, rules);
      const { canonical, ids } = await idsOf(oneId);
      // Who holds what before the split decides which events follow it.
      const held = await store.identifiers(ids);
      const command: SplitCommand = {
        op: 'split',
        requestId: newRequestId(),
        oneId: canonical,
        identifiers,
        at: deps.now(),
      };
      await send(command);
      const rows = await answerOf(command.requestId, 'split', command.at);
      const failure = rows.find((r) => r.reason !== 'manual_split');
      if (failure !== undefined) {
        if (failure.reason === 'unknown_person') throw notFound(oneId);
        throw refused('split', failure.reason);
      }
      const first = rows[0] as AuditRecord;
      if (first.otherId === '')
        throw new CdpError('CDP_ERR_INTERNAL', {
          message: `The resolver's split answer (request ${command.requestId}) names no new person`,
        });
      const done = new Set(rows.map((r) => `${r.identifierType}:${r.identifierHash}`));
      const moved = identifiers.filter((i) => done.has(`${i.type}:${auditHash(i)}`));
      // The resolver may know the person under a newer canonical id.
      const eventIds = ids.includes(first.oneId)
        ? ids
        : [...ids, ...(await idsOf(first.oneId)).ids];
      const rule = eventMoveRule(held, moved, rules.priority);
      const eventsMoved = await store.moveEvents(eventIds, rule, first.otherId);
      deps.logger?.info(
        {
          requestId: command.requestId,
          from: first.oneId,
          oneId: first.otherId,
          moved: moved.length,
          eventsMoved,
        },
        'person_split',
      );
      return {
        from: first.oneId,
        oneId: first.otherId,
        moved: moved.map((m) => ({ type: m.type, value: m.value, hashed: isHashedType(m.type) })),
        eventsMoved,
      };
    },

    async remove(oneId) {
      // The ids first: once the resolver has deleted the person, the overrides
      // that say which ids were its may be retired too.
      const { canonical, ids } = await idsOf(oneId);
      const [identifiers, stats] = await Promise.all([
        store.identifiers(ids),
        store.eventStats(ids),
      ]);
      const known = identifiers.length > 0 || stats.count > 0;
      const command: DeleteCommand = {
        op: 'delete',
        requestId: newRequestId(),
        oneId: canonical,
        at: deps.now(),
      };
      await send(command);
      const [row] = await answerOf(command.requestId, 'delete', command.at);
      const reason = row?.reason ?? '';
      // unknown_person with rows still here: an earlier delete reached the
      // resolver but not the erase (a timeout, a crash). Finishing the erase
      // makes DELETE safe to retry.
      if (reason === 'unknown_person' && !known) throw notFound(oneId);
      if (reason !== 'gdpr_delete' && reason !== 'unknown_person') throw refused('delete', reason);
      const retired =
        row === undefined || row.oneId === '' || ids.includes(row.oneId)
          ? ids
          : [...ids, ...(await idsOf(row.oneId)).ids];
      const eraseCopies = async (): Promise<{ events: number; busPartitions: number }> => {
        const events = await store.erase(retired);
        // The bus keeps what its consumers have read (journal files, Kafka
        // logs) until retention: the person's records go now.
        const busPartitions = await deps.bus.purgeConsumed(deps.erasedTopics);
        return { events, busPartitions };
      };
      const { events: eventsDeleted, busPartitions } = await eraseCopies();
      const again = deps.eraseAgainAfterMs ?? 30_000;
      if (again > 0) {
        const pass = async (): Promise<void> => {
          pending.delete(timer);
          try {
            const late = await eraseCopies();
            deps.logger?.info({ requestId: command.requestId, late }, 'person_erased_again');
          } catch (err) {
            deps.logger?.error({ err, requestId: command.requestId }, 'person_erase_again_failed');
          }
        };
        const timer = setTimeout(() => void pass(), again).unref();
        pending.set(timer, pass);
      }
      deps.logger?.info(
        {
          requestId: command.requestId,
          oneId: canonical,
          retiredIds: retired,
          eventsDeleted,
          busPartitions,
        },
        'person_deleted',
      );
      return { deleted: canonical, retiredIds: retired, eventsDeleted };
    },

    async close() {
      const passes = [...pending.entries()];
      for (const [timer] of passes) clearTimeout(timer);
      await Promise.all(passes.map(([, pass]) => pass()));
    },

    async exportPerson(oneId) {
      const { view, ids } = await load(oneId, 0, true);
      const audit = (await store.audit(ids)).map(auditView);
      const deadLetters = await store.deadLetters(hashesOf(await store.identifiers(ids)));
      async function* pages(): AsyncGenerator<Record<string, unknown>[]> {
        let after: EventCursor | undefined;
        for (;;) {
          const page = await store.eventPage(ids, after, EXPORT_PAGE_SIZE);
          if (page.length > 0) yield page;
          if (page.length < EXPORT_PAGE_SIZE) return;
          after = cursorOf(page[page.length - 1] as Record<string, unknown>);
        }
      }
      return exportLines(view, pages(), audit, deadLetters);
    },
  };
}

/** Where the next export page starts: after this row in (timestamp, unique key) order. */
function cursorOf(row: Readonly<Record<string, unknown>>): EventCursor {
  const s = (k: string): string => {
    const v = row[k];
    return typeof v === 'string' ? v : '';
  };
  return {
    timestamp: s('timestamp'),
    messageId: s('message_id'),
    sourceId: s('source_id'),
    anonymousId: s('anonymous_id'),
    userId: s('user_id'),
  };
}
