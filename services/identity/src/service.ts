import type { Logger, Topics } from '@cdp/core';
import type { Bus, ConsumerHealth } from '@cdp/bus';
import type { Identifier, IdentityGraph, IdentityRules, StampEventOptions } from '@cdp/identity';
import type { Warehouse } from '@cdp/warehouse';
import type { Registry } from 'prom-client';
import { graphCache, warehouseCache } from './cache.js';
import { createIdentityMetrics } from './metrics.js';
import { createResolver } from './resolver.js';
import { createStamper } from './stamper.js';

export interface IdentityServiceOptions {
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly rules: IdentityRules;
  readonly registry?: Registry;
  /** Prefix of the consumer groups (the topic prefix). Default `cdp.`. */
  readonly groupPrefix?: string;
  /**
   * `graph`: the stampers read this process's resolver graph (the all-in-one
   * runner: one process, exact and free). `warehouse`: an LRU over the
   * `identities` table (stampers that scale out in their own processes).
   */
  readonly stamperCache: 'graph' | 'warehouse';
  /** Run the resolver here too (default true; its group lets one member at a time be active). */
  readonly resolver?: boolean;
  /**
   * Run a stamper on `cdp.events.raw` (default true). The all-in-one runner
   * turns it off: ingest stamps events as they arrive (one bus hop less),
   * and the loader reads `cdp.events.raw`.
   */
  readonly stamper?: boolean;
  /** Where the resolver reports how it fares (`/readyz`, `cdp_consumer_*`). */
  readonly health?: ConsumerHealth;
}

export interface IdentityService {
  start(): Promise<void>;
  /** Stops the stamper first (no new links), then the resolver. */
  stop(): Promise<void>;
  /** The resolver's graph, when this process runs the resolver. */
  graph(): IdentityGraph | undefined;
  /** Stamping options over the resolver's graph, for a stamper in this process (ingest). */
  stampOptions(): StampEventOptions;
}

/** Consumer groups of the identity service, under a prefix. */
export function identityGroups(prefix = 'cdp.'): { stamper: string; resolver: string } {
  return { stamper: `${prefix}identity.stamper`, resolver: `${prefix}identity.resolver` };
}

/** The identity service: stampers on `cdp.events.raw`, and the resolver on `cdp.identity.links`. */
export function createIdentityService(opts: IdentityServiceOptions): IdentityService {
  const metrics = createIdentityMetrics(opts.registry);
  const groups = identityGroups(opts.groupPrefix);
  const logger = opts.logger;
  const resolver =
    opts.resolver === false
      ? undefined
      : createResolver({
          bus: opts.bus,
          warehouse: opts.warehouse,
          topics: opts.topics,
          logger,
          rules: opts.rules,
          metrics,
          group: groups.resolver,
          restampTopic: opts.stamper === false ? opts.topics.eventsRaw : opts.topics.eventsResolved,
          health: opts.health,
        });
  if (opts.stamperCache === 'graph' && !resolver) {
    throw new Error('identity: a graph cache needs the resolver in the same process');
  }
  const stamper =
    opts.stamper === false
      ? undefined
      : createStamper({
          bus: opts.bus,
          topics: opts.topics,
          logger,
          rules: opts.rules,
          metrics,
          group: groups.stamper,
          cache:
            opts.stamperCache === 'graph' && resolver
              ? graphCache(() => resolver.graph())
              : warehouseCache(opts.warehouse),
          ...(opts.stamperCache === 'graph' && resolver
            ? { isTaken: (id: string) => resolver.graph().isTaken(id) }
            : {}),
        });
  return {
    async start() {
      await resolver?.start();
      await stamper?.start();
      logger.info(
        {
          cache: opts.stamperCache,
          stamper: stamper !== undefined,
          resolver: resolver !== undefined,
        },
        'identity_started',
      );
    },
    async stop() {
      await stamper?.stop();
      await resolver?.stop();
      logger.info('identity_stopped');
    },
    graph: () => resolver?.graph(),
    stampOptions: () => {
      if (!resolver) throw new Error('identity: stamping in-process needs the resolver here');
      return {
        rules: opts.rules,
        lookup: (i: Identifier) => resolver.graph().lookup(i),
        isTaken: (id: string) => resolver.graph().isTaken(id),
      };
    },
  };
}
