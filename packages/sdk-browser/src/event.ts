import type {
  CallOptions,
  CdpEvent,
  EventContext,
  EventType,
  Properties,
  Traits,
} from './types.js';

/** The type-specific fields of a call. */
export interface EventFields {
  readonly event?: string | undefined;
  readonly name?: string | undefined;
  readonly category?: string | undefined;
  readonly properties?: Properties | undefined;
  readonly traits?: Traits | undefined;
  readonly previousId?: string | undefined;
  readonly groupId?: string | undefined;
}

/** The fields every event has, decided by the caller (ids, clock, identity). */
export interface EventMeta {
  readonly messageId: string;
  /** Time of the call, ms since the epoch. */
  readonly at: number;
  readonly anonymousId: string;
  readonly userId: string | null;
  readonly context: EventContext;
  readonly options?: CallOptions | undefined;
}

/** A plain object, not an array, `null` or a class instance such as `Date`. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const nonEmpty = (s: string | null | undefined): s is string => typeof s === 'string' && s !== '';

function timestampOf(t: Date | string | undefined, at: number): string {
  const d = t === undefined ? new Date(at) : new Date(t);
  return Number.isNaN(d.getTime()) ? new Date(at).toISOString() : d.toISOString();
}

/**
 * Builds an event with Segment's field names and no junk: string fields only
 * when non-empty, no `null` user id, `properties` always an object on `track`
 * and `page` and `traits` on `identify` and `group` (and absent elsewhere),
 * `integrations` only when some are given, call context merged over the
 * automatic one (top-level keys replace, `undefined` values are skipped).
 */
export function buildEvent(type: EventType, f: EventFields, m: EventMeta): CdpEvent {
  const context: EventContext = { ...m.context };
  const extra = m.options?.context;
  if (isPlainObject(extra)) {
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) context[k] = v;
  }
  const e: CdpEvent = {
    type,
    messageId: m.messageId,
    timestamp: timestampOf(m.options?.timestamp, m.at),
    anonymousId: m.anonymousId,
    context,
  };
  if (nonEmpty(m.userId)) e.userId = m.userId;
  if (nonEmpty(f.event)) e.event = f.event;
  if (nonEmpty(f.category)) e.category = f.category;
  if (nonEmpty(f.name)) e.name = f.name;
  if (type === 'track' || type === 'page') {
    e.properties = isPlainObject(f.properties) ? { ...f.properties } : {};
  }
  if (type === 'identify' || type === 'group') {
    e.traits = isPlainObject(f.traits) ? { ...f.traits } : {};
  }
  if (nonEmpty(f.previousId)) e.previousId = f.previousId;
  if (nonEmpty(f.groupId)) e.groupId = f.groupId;
  const integrations = m.options?.integrations;
  if (isPlainObject(integrations) && Object.keys(integrations).length > 0) {
    e.integrations = { ...integrations };
  }
  return e;
}
