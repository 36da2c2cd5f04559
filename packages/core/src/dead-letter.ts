/**
 * Dead letters: the `cdp.events.invalid` message (schemas/topics/events-invalid.json)
 * that every producer of one (ingest, the resolver, the loader) writes the same way.
 */

/** Dead-letter payloads are cut at this size; the rest is not kept. */
export const MAX_DEAD_LETTER_PAYLOAD = 64 * 1024;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * The string with every unpaired UTF-16 surrogate replaced by U+FFFD
 * (`String.prototype.toWellFormed`): ClickHouse refuses JSON text with a lone
 * surrogate escape, and one such row would fail the whole insert.
 */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

export interface DeadLetterFields {
  readonly id: string;
  readonly receivedAt: number;
  readonly sourceId: string;
  readonly code: string;
  readonly field: string;
  readonly reason: string;
  /** The raw input as text (cut at {@link MAX_DEAD_LETTER_PAYLOAD}). */
  readonly payload: string;
  readonly ip: string;
  /** Cut the payload here instead (a sample of an unauthenticated request). */
  readonly maxPayload?: number;
}

/** The JSON of a `cdp.events.invalid` message: well-formed, payload cut at 64 KiB. */
export function deadLetterMessage(f: DeadLetterFields): string {
  const max = f.maxPayload ?? MAX_DEAD_LETTER_PAYLOAD;
  const truncated = f.payload.length > max;
  return JSON.stringify({
    schemaVersion: 1,
    id: f.id,
    receivedAt: f.receivedAt,
    sourceId: wellFormed(f.sourceId),
    code: f.code,
    field: wellFormed(f.field),
    reason: wellFormed(f.reason),
    payload: wellFormed(truncated ? f.payload.slice(0, max) : f.payload),
    truncated,
    ip: f.ip,
  });
}
