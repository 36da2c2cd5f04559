import type { EventType, EventValidator, SchemaProblem } from '@cdp/schemas';
import { EVENT_TYPES } from '@cdp/schemas';
import { depthExceeds } from '@cdp/http';

/** A Segment-spec call after normalisation: ids are strings, `messageId` and `type` are set. */
export interface NormalizedEvent extends Record<string, unknown> {
  type: EventType;
  messageId: string;
  anonymousId?: string;
  userId?: string;
  context?: Record<string, unknown>;
}

export type NormalizeResult =
  | {
      readonly ok: true;
      readonly event: NormalizedEvent;
      readonly key: string;
      readonly json: string;
    }
  | { readonly ok: false; readonly problem: SchemaProblem };

export interface NormalizeOptions {
  readonly validate: EventValidator;
  readonly newMessageId: () => string;
  readonly maxEventBytes: number;
  readonly maxDepth: number;
}

const SHORT_TYPES: Record<string, EventType> = {
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
};

/** Maps a route segment (`track` or analytics.js's short `t`) to an event type. */
export function typeFromPath(segment: string): EventType | undefined {
  if ((EVENT_TYPES as readonly string[]).includes(segment)) return segment as EventType;
  return SHORT_TYPES[segment];
}

const ID_FIELDS = ['anonymousId', 'userId', 'groupId', 'previousId'] as const;

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/**
 * Applies the tracking spec's field rules to one call: the type comes from the
 * route (or the batch item), numeric ids become strings, `messageId` is
 * assigned when absent, `writeKey` is never stored, the size and nesting
 * limits hold, the JSON Schema passes, and `userId` or `anonymousId` is
 * present. Returns the event, its bus key and its JSON, or the first problem.
 */
export function normalizeEvent(
  raw: Record<string, unknown>,
  type: EventType | undefined,
  opts: NormalizeOptions,
): NormalizeResult {
  const t = type ?? (typeof raw['type'] === 'string' ? typeFromPath(raw['type']) : undefined);
  if (!t) {
    return {
      ok: false,
      problem: isBlank(raw['type'])
        ? {
            code: 'CDP_ERR_EVENT_MISSING_FIELD',
            field: 'type',
            message: 'type is required for batch items',
          }
        : {
            code: 'CDP_ERR_EVENT_UNKNOWN_TYPE',
            field: 'type',
            message: `type must be one of ${EVENT_TYPES.join(', ')}`,
          },
    };
  }
  if (depthExceeds(raw, opts.maxDepth)) {
    return {
      ok: false,
      problem: {
        code: 'CDP_ERR_INGEST_TOO_DEEP',
        field: '',
        message: `The event nests deeper than ${opts.maxDepth} levels`,
      },
    };
  }
  const problem = opts.validate(t, raw);
  if (problem) return { ok: false, problem };

  const event = { ...raw } as NormalizedEvent;
  // `delete` only when there is something to remove: it turns the object into
  // a slow dictionary, which made every later step (stringify above all) slower.
  if ('writeKey' in event) delete event['writeKey'];
  event.type = t;
  for (const f of ID_FIELDS) {
    const v = event[f];
    if (v === undefined) continue;
    if (typeof v === 'number') event[f] = String(v);
    else if (isBlank(v)) delete event[f];
  }
  if (event.userId === undefined && event.anonymousId === undefined) {
    return {
      ok: false,
      problem: {
        code: 'CDP_ERR_EVENT_MISSING_ID',
        field: 'userId',
        message: 'Either userId or anonymousId is required',
      },
    };
  }
  if (typeof event.messageId !== 'string' || event.messageId === '')
    event.messageId = opts.newMessageId();
  const json = JSON.stringify(event);
  // Bytes, not characters: the limit protects the bus and the warehouse.
  if (json.length > opts.maxEventBytes / 4 && Buffer.byteLength(json) > opts.maxEventBytes) {
    return {
      ok: false,
      problem: {
        code: 'CDP_ERR_INGEST_EVENT_TOO_LARGE',
        field: '',
        message: `The event is over ${opts.maxEventBytes} bytes`,
      },
    };
  }
  return { ok: true, event, key: event.anonymousId ?? event.userId ?? event.messageId, json };
}

/**
 * Splits a batch envelope `{batch, context, integrations, sentAt}` into
 * items with the envelope's context merged in (the item's own keys win).
 */
export function batchItems(body: Record<string, unknown>): unknown[] | SchemaProblem {
  const batch = body['batch'];
  if (!Array.isArray(batch)) {
    return batch === undefined
      ? { code: 'CDP_ERR_EVENT_MISSING_FIELD', field: 'batch', message: 'batch is required' }
      : { code: 'CDP_ERR_EVENT_INVALID_TYPE', field: 'batch', message: 'batch must be array' };
  }
  const ctx = body['context'];
  const integrations = body['integrations'];
  const sentAt = body['sentAt'];
  const hasCtx = ctx !== null && typeof ctx === 'object' && !Array.isArray(ctx);
  const hasInt =
    integrations !== null && typeof integrations === 'object' && !Array.isArray(integrations);
  if (!hasCtx && !hasInt && sentAt === undefined) return batch as unknown[];
  return batch.map((item: unknown) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const it = { ...(item as Record<string, unknown>) };
    if (hasCtx) {
      const own = it['context'];
      it['context'] =
        own !== null && typeof own === 'object' && !Array.isArray(own)
          ? { ...ctx, ...own }
          : own === undefined
            ? { ...ctx }
            : own;
    }
    if (hasInt && it['integrations'] === undefined) it['integrations'] = integrations;
    if (sentAt !== undefined && it['sentAt'] === undefined) it['sentAt'] = sentAt;
    return it;
  });
}
