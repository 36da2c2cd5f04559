import { CdpError, DERIVED_SOURCE_ID, type Logger } from '@cdp/core';
import type { Source } from '@cdp/sources';
import type { Collector } from './collector.js';

/**
 * The source of events the platform derives itself (`Tier Upgraded`, later
 * `Audience Entered`): they take ingest's own path (validation, enrichment,
 * OneID stamping, the bus) and land in `events` like any other, under this
 * source id, so person-level work can tell them from a person's own activity.
 */
export const DERIVED_SOURCE: Source = {
  id: DERIVED_SOURCE_ID,
  name: 'CDP (derived events)',
  writeKeyHash: '',
  writeKeyPrefix: '',
  allowedOrigins: [],
  redirectAllowlist: [],
  ipPolicy: 'drop',
  createdAt: 0,
  updatedAt: 0,
  version: 0,
};

/** Takes Segment-shaped calls from the platform's own services. */
export interface DerivedEventSink {
  /** Resolves once the events are on the bus; throws if any is refused (a bug in the caller). */
  track(calls: readonly object[]): Promise<void>;
}

export function createDerivedEventSink(
  collector: Collector,
  logger: Logger,
  now: () => number,
): DerivedEventSink {
  return {
    async track(calls) {
      if (calls.length === 0) return;
      const res = await collector.accept(
        calls.map((raw) => ({ raw, type: 'track' as const })),
        { source: DERIVED_SOURCE, receivedAt: now(), ip: '', userAgent: 'cdp' },
      );
      if (res.rejected.length > 0) {
        logger.error({ rejected: res.rejected }, 'derived_events_rejected');
        const r = res.rejected[0];
        throw new CdpError(r?.code ?? 'CDP_ERR_EVENT_INVALID_VALUE', {
          ...(r ? { field: `batch[${r.index}].${r.field}` } : {}),
          message: `A derived event was refused: ${r?.message ?? ''}`,
        });
      }
    },
  };
}
