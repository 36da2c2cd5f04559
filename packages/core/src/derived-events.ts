/**
 * Events the platform derives itself (`Tier Upgraded`, `Audience Entered`):
 * Segment-shaped track calls that go through ingest's own path (validation,
 * enrichment, OneID, the bus), in process or over HTTP.
 */
import { createHash } from 'node:crypto';
import { CdpError, type ErrorCode } from './errors.js';

/** A Segment-shaped track call the platform takes in as any other event. */
export interface TrackCall {
  readonly type: 'track';
  readonly messageId: string;
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly event: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly timestamp: string;
  readonly context: Readonly<Record<string, unknown>>;
}

/** Where derived events go: ingest's own path (validation, enrichment, OneID, the bus). */
export interface EventSink {
  track(calls: readonly TrackCall[]): Promise<void>;
}

/**
 * Who a derived event is about, as ingest takes it: the person's user id,
 * else an anonymous id; undefined when they have neither ('' is none).
 */
export function eventIdentity(ids: {
  readonly user_id: string;
  readonly anonymous_id: string;
}): { userId: string } | { anonymousId: string } | undefined {
  if (ids.user_id !== '') return { userId: ids.user_id };
  if (ids.anonymous_id !== '') return { anonymousId: ids.anonymous_id };
  return undefined;
}

/** A UUID-shaped id from a name (stable across replays of the same change). */
export function stableMessageId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Derived events to ingest over HTTP (distributed mode):
 * `POST <ingest>/v1/derived/batch` with the admin token. A refusal throws
 * `code` (retryable for 5xx and 429).
 */
export function createHttpEventSink(opts: {
  readonly ingestUrl: string;
  readonly adminToken: string;
  readonly code: ErrorCode;
}): EventSink {
  return {
    async track(calls) {
      const res = await fetch(new URL('/v1/derived/batch', opts.ingestUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ batch: calls }),
        signal: AbortSignal.timeout(30_000),
      });
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw new CdpError(opts.code, {
          retryable: res.status >= 500 || res.status === 429,
          message: `Ingest refused derived events (${res.status}): ${text.slice(0, 500)}`,
        });
      }
    },
  };
}
