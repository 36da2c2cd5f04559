import type { FastifyRequest } from 'fastify';
import type { Logger, Topics } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';
import type { ConsumerReadiness } from '@cdp/http';
import type { SourceRegistry } from '@cdp/sources';
import type { Collector, IngestStamper, RequestContext } from './collector.js';
import type { IngestOwnConfig } from './config.js';
import type { IngestMetrics } from './metrics.js';
import type { SdkScript } from './sdk-script.js';

export type IngestLimits = Pick<
  IngestOwnConfig,
  | 'CDP_MAX_EVENT_BYTES'
  | 'CDP_MAX_BATCH_BYTES'
  | 'CDP_MAX_BATCH_EVENTS'
  | 'CDP_MAX_DEPTH'
  | 'CDP_MAX_FUTURE_MS'
  | 'CDP_TRUST_PROXY'
  | 'CDP_SDK_PATH'
  | 'CDP_RATE_LIMIT_PER_IP'
  | 'CDP_RATE_LIMIT_PER_KEY'
  | 'CDP_UNAUTH_SAMPLES_PER_MIN'
>;

export const DEFAULT_LIMITS: IngestLimits = {
  CDP_MAX_EVENT_BYTES: 32 * 1024,
  CDP_MAX_BATCH_BYTES: 500 * 1024,
  CDP_MAX_BATCH_EVENTS: 2500,
  CDP_MAX_DEPTH: 32,
  CDP_MAX_FUTURE_MS: 3_600_000,
  CDP_TRUST_PROXY: false,
  CDP_SDK_PATH: '/s/c.js',
  CDP_RATE_LIMIT_PER_IP: 6000,
  CDP_RATE_LIMIT_PER_KEY: 60_000,
  CDP_UNAUTH_SAMPLES_PER_MIN: 10,
};

export interface IngestDeps {
  readonly bus: Bus;
  /** Only asked by `/readyz`: events reach the warehouse through the loader. */
  readonly warehouse: Warehouse;
  readonly sources: SourceRegistry;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly limits?: Partial<IngestLimits>;
  readonly metrics?: IngestMetrics;
  readonly now?: () => number;
  /** Stamp `one_id` in ingest (the all-in-one runner; see `CollectorDeps.stamper`). */
  readonly stamper?: IngestStamper | undefined;
  /** The built browser SDK served at `CDP_SDK_PATH` (see `loadSdkScript`). */
  readonly sdkScript?: SdkScript | undefined;
  /**
   * The admin token, when other processes send derived events (the tag
   * engine's tier changes) to `POST /v1/derived/batch`: distributed mode.
   */
  readonly derivedToken?: string | undefined;
  /** The process's consumers, for `/readyz` (the all-in-one runner). */
  readonly consumers?: ConsumerReadiness | undefined;
}

/** What the collection routes share. */
export interface IngestContext {
  readonly deps: IngestDeps;
  readonly limits: IngestLimits;
  readonly collector: Collector;
  readonly metrics: IngestMetrics;
  readonly now: () => number;
  /** Who sent this request (source resolved later by the route). */
  requestContext(req: FastifyRequest, source: RequestContext['source']): RequestContext;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Collection routes dead-letter request-level rejections. */
    collect?: boolean;
  }
}
