import { HASHED_IDENTIFIER_TYPES, isIdentifierType } from '@cdp/identity';
import type { AuditRecord, EventSummaryRecord, IdentityRecord } from './person-store.js';
import { parseObject } from './traits.js';

/** An identifier as the Person API shows it. `value` is the stored form: SHA-256 hex when `hashed`. */
export interface IdentifierView {
  readonly type: string;
  readonly value: string;
  readonly hashed: boolean;
  readonly firstSeen: string;
  readonly lastSeen: string;
}

/** An event in a person's answer. */
export interface EventView {
  readonly messageId: string;
  readonly type: string;
  readonly event: string;
  readonly timestamp: string;
  readonly channel: string;
  readonly properties: Record<string, unknown>;
}

/** An `identity_audit` row; columns that do not apply are left out. */
export interface AuditView {
  readonly at: string;
  readonly kind: string;
  readonly oneId: string;
  readonly otherId?: string;
  readonly identifierType?: string;
  readonly identifierHash?: string;
  readonly reason: string;
  /** The API request or event (messageId) behind the row. */
  readonly requestId?: string;
}

/** `GET /v1/persons/:oneId` and `GET /v1/persons/lookup`. */
export interface PersonView {
  /** The canonical (live) person id. */
  readonly oneId: string;
  /** The id asked for, when it was merged into `oneId`. */
  readonly requested?: string;
  /** Ids merged into `oneId`; their events belong to it. */
  readonly mergedIds: readonly string[];
  readonly identifiers: readonly IdentifierView[];
  /** Latest value of each trait of the person's identify calls. */
  readonly traits: Record<string, unknown>;
  /** Time of the first and last event, null without events. */
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  readonly eventCount: number;
  /** The latest events, newest first. */
  readonly events: readonly EventView[];
  /** Merges, refusals, splits and deletes that name the person's ids, oldest first. */
  readonly audit: readonly AuditView[];
}

/** Whether an identifier type is stored as a SHA-256 hex digest (email, phone). */
export function isHashedType(type: string): boolean {
  return isIdentifierType(type) && HASHED_IDENTIFIER_TYPES.has(type);
}

export function identifierView(r: IdentityRecord): IdentifierView {
  return {
    type: r.type,
    value: r.value,
    hashed: isHashedType(r.type),
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
  };
}

export function eventView(r: EventSummaryRecord): EventView {
  return {
    messageId: r.messageId,
    type: r.type,
    event: r.event,
    timestamp: r.timestamp,
    channel: r.channel,
    properties: parseObject(r.properties) ?? {},
  };
}

export function auditView(r: AuditRecord): AuditView {
  return {
    at: r.at,
    kind: r.kind,
    oneId: r.oneId,
    ...(r.otherId === '' ? {} : { otherId: r.otherId }),
    ...(r.identifierType === '' ? {} : { identifierType: r.identifierType }),
    ...(r.identifierHash === '' ? {} : { identifierHash: r.identifierHash }),
    reason: r.reason,
    ...(r.requestId === '' ? {} : { requestId: r.requestId }),
  };
}
