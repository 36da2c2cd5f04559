import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one ingest app (its own registry, so tests can run several). */
export interface IngestMetrics {
  readonly registry: Registry;
  /** Events by outcome: `accepted`, `rejected`, `backpressure`. */
  readonly events: Counter<'outcome'>;
  readonly requests: Counter<'route' | 'status'>;
  readonly deadLetters: Counter<'code'>;
  /** Refused requests without a valid write key (counted; only a few are kept as samples). */
  readonly unauthenticated: Counter<'code'>;
  /** Requests refused with 429, by limit (`ip`, `key`). */
  readonly rateLimited: Counter<'limit'>;
  /** Time from request to the bus acknowledging the events. */
  readonly produceSeconds: Histogram;
}

/** Creates the metrics on `registry` (a new one by default, with the process's default metrics). */
export function createIngestMetrics(opts: { registry?: Registry } = {}): IngestMetrics {
  const registry = opts.registry ?? new Registry();
  if (!opts.registry) collectDefaultMetrics({ register: registry, prefix: 'cdp_' });
  return {
    registry,
    events: new Counter({
      name: 'cdp_ingest_events_total',
      help: 'Events received, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    requests: new Counter({
      name: 'cdp_ingest_requests_total',
      help: 'HTTP requests, by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'cdp_ingest_dead_letters_total',
      help: 'Rejected inputs sent to the dead-letter topic, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    unauthenticated: new Counter({
      name: 'cdp_ingest_unauthenticated_total',
      help: 'Refused collection requests without a valid write key, by code (a few are kept as dead-letter samples)',
      labelNames: ['code'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'cdp_ingest_rate_limited_total',
      help: 'Collection requests answered 429, by limit (ip, key)',
      labelNames: ['limit'],
      registers: [registry],
    }),
    produceSeconds: new Histogram({
      name: 'cdp_ingest_produce_seconds',
      help: "Time for the bus to acknowledge a request's events",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}
