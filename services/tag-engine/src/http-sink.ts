import { CdpError } from '@cdp/core';
import type { EventSink } from './tier-events.js';

/** Derived events to ingest over HTTP (distributed mode): `POST <ingest>/v1/derived/batch`. */
export function createHttpEventSink(opts: {
  readonly ingestUrl: string;
  readonly adminToken: string;
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
        throw new CdpError('CDP_ERR_TAG_RUN_FAILED', {
          retryable: res.status >= 500 || res.status === 429,
          message: `Ingest refused derived events (${res.status}): ${text.slice(0, 500)}`,
        });
      }
    },
  };
}
