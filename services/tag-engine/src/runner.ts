import type { Logger, Topics } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';
import {
  createDefinitionStore,
  createTagService,
  type DefinitionStore,
  type TagService,
} from '@cdp/tag-store';
import { createTagEngine, type TagEngine } from './engine.js';
import type { EventSink } from './tier-events.js';

export interface TagEngineRunnerDeps {
  /** The engine's own warehouse connection (embedded: its own chDB session). */
  readonly warehouse: Warehouse;
  readonly bus: Bus;
  readonly topics: Topics;
  readonly logger: Logger;
  readonly events?: EventSink | undefined;
  /** Milliseconds between scheduled runs (`CDP_TAGS_INTERVAL` x 1000). */
  readonly intervalMs: number;
  /** A folder of definition files loaded at start; empty or absent: none. */
  readonly definitionsDir?: string | undefined;
  readonly loadMarginMs?: number | undefined;
  readonly partitions: number;
  /** Threads of a run's queries on embedded chDB (0: ClickHouse's default). */
  readonly maxThreads?: number | undefined;
  /** The time tags are computed for (default: the clock). */
  readonly now?: () => number;
  /** Start the schedule (default true; tests run on demand). */
  readonly schedule?: boolean;
}

/** The tag engine as a service: definitions seeded and loaded, runs on a schedule. */
export interface TagEngineRunner {
  readonly engine: TagEngine;
  readonly definitions: DefinitionStore;
  /** The API side, running in this process. */
  readonly service: TagService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createTagEngineRunner(deps: TagEngineRunnerDeps): TagEngineRunner {
  const definitions = createDefinitionStore({ warehouse: deps.warehouse, logger: deps.logger });
  const engine = createTagEngine({
    warehouse: deps.warehouse,
    bus: deps.bus,
    topics: deps.topics,
    logger: deps.logger,
    definitions,
    events: deps.events,
    ...(deps.loadMarginMs !== undefined ? { loadMarginMs: deps.loadMarginMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const service = createTagService({
    warehouse: deps.warehouse,
    definitions,
    logger: deps.logger,
    recompute: (opts) => engine.run(opts),
  });
  return {
    engine,
    definitions,
    service,
    async start() {
      // The engine's own chDB session keeps its settings for every later
      // query (sticky), which is what limits a run to its share of the cores.
      if (deps.warehouse.kind === 'chdb' && (deps.maxThreads ?? 0) > 0)
        await deps.warehouse.command(`SET max_threads = ${Math.trunc(deps.maxThreads ?? 0)}`);
      await deps.bus.ensureTopics([
        { name: deps.topics.profilesTags, partitions: deps.partitions },
      ]);
      await definitions.seedBuiltins();
      if (deps.definitionsDir !== undefined && deps.definitionsDir !== '') {
        const loaded = await definitions.loadFolder(deps.definitionsDir);
        deps.logger.info({ dir: deps.definitionsDir, loaded }, 'tag_definitions_loaded');
      }
      if (deps.schedule !== false) engine.start(deps.intervalMs);
      deps.logger.info({ intervalMs: deps.intervalMs }, 'tag_engine_started');
    },
    async stop() {
      await engine.stop();
    },
  };
}
