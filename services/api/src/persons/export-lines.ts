import type { AuditView, IdentifierView, PersonView } from './person-view.js';
import { parseObject } from './traits.js';

/** The media type of a person export. */
export const NDJSON = 'application/x-ndjson';

/** Event columns holding JSON documents: exported as objects, not as text. */
const JSON_COLUMNS = ['properties', 'traits', 'context'] as const;

/** One NDJSON line: `kind` first (a field of that name cannot replace it), then the fields, then a newline. */
export function ndjsonLine(kind: string, fields: object): string {
  const line: Record<string, unknown> = { kind, ...fields };
  line['kind'] = kind;
  return `${JSON.stringify(line)}\n`;
}

/** The first line: the person without its events (they follow, all of them, one per line). */
export function personLine(p: PersonView): string {
  const fields: Record<string, unknown> = { ...p };
  delete fields['events'];
  return ndjsonLine('person', fields);
}

export function identifierLine(i: IdentifierView): string {
  return ndjsonLine('identifier', i);
}

/**
 * An event with every column of `events` as stored, plus `person_id`; the
 * JSON columns are parsed (a column that is not a JSON object stays text).
 */
export function eventLine(row: Readonly<Record<string, unknown>>, personId: string): string {
  const out: Record<string, unknown> = { person_id: personId, ...row };
  for (const c of JSON_COLUMNS) {
    const v = row[c];
    if (typeof v === 'string') out[c] = parseObject(v) ?? v;
  }
  return ndjsonLine('event', out);
}

/** An audit row; its own `kind` (merge, refusal, split, delete) is `auditKind`. */
export function auditLine(a: AuditView): string {
  const { kind, ...rest } = a;
  return ndjsonLine('audit', { auditKind: kind, ...rest });
}

/** A dead letter (an event ingest refused) that holds one of the person's identifiers. */
export function deadLetterLine(row: Readonly<Record<string, unknown>>): string {
  return ndjsonLine('dead_letter', row);
}

/**
 * A person's export, in order: the person, its identifiers, every event
 * (oldest first, page by page as `eventPages` yields them), every audit row,
 * every dead letter holding one of its identifiers.
 */
export async function* exportLines(
  person: PersonView,
  eventPages: AsyncIterable<readonly Readonly<Record<string, unknown>>[]>,
  audit: readonly AuditView[],
  deadLetters: readonly Readonly<Record<string, unknown>>[] = [],
): AsyncGenerator<string> {
  yield personLine(person);
  for (const i of person.identifiers) yield identifierLine(i);
  for await (const page of eventPages) {
    // One chunk per page: fewer, larger writes to the socket.
    let chunk = '';
    for (const row of page) chunk += eventLine(row, person.oneId);
    if (chunk !== '') yield chunk;
  }
  for (const a of audit) yield auditLine(a);
  for (const d of deadLetters) yield deadLetterLine(d);
}
