import type { FastifyInstance } from 'fastify';
import type { ConsoleAssets } from '@cdp/console';
import type { Logger, Topics } from '@cdp/core';
import type { Bus } from '@cdp/bus';
import type { IdentityRules } from '@cdp/identity';
import type { SourceRegistry } from '@cdp/sources';
import type { TagService } from '@cdp/tag-store';
import type { AudienceService, DestinationService } from '@cdp/segment-exporter';
import type { AlertService, MetricsService } from '@cdp/metrics-service';
import type { ReadonlyQueryLimits, Warehouse } from '@cdp/warehouse';

export interface ApiDeps {
  /** Person splits and deletes go to the resolver through the bus. */
  readonly bus: Bus;
  readonly warehouse: Warehouse;
  readonly sources: SourceRegistry;
  readonly topics: Topics;
  readonly logger: Logger;
  /** The admin token: every route of the API. */
  readonly adminToken: string;
  /** A read-only token (`CDP_ANALYTICS_TOKEN`) for the routes marked `ANALYTICS_READ`; empty or absent: none. */
  readonly analyticsToken?: string | undefined;
  readonly now?: () => number;
  /** OneID rules (normalisation, priority) for the Person API; must match the resolver's. Default: the defaults. */
  readonly identityRules?: IdentityRules | undefined;
  /** Largest request body after decompression, in bytes. Default 2,048,000 (ingest's default cap). */
  readonly maxBodyBytes?: number;
  /** The one browser origin the API answers (a console's); empty or absent: none. */
  readonly consoleOrigin?: string | undefined;
  /** Limits of `POST /v1/sql` (default: the warehouse's, `DEFAULT_READONLY_LIMITS`). */
  readonly sqlLimits?: ReadonlyQueryLimits | undefined;
  /** Tag definitions, values and runs (absent: the tag routes answer 404). */
  readonly tags?: TagService | undefined;
  /** Audiences: definitions, previews, members and runs (absent: the audience routes answer 404). */
  readonly audiences?: AudienceService | undefined;
  /** Destinations of audiences and their syncs (absent: the destination routes answer 404). */
  readonly destinations?: DestinationService | undefined;
  /** Metric definitions and series (absent: the metric routes answer 404). */
  readonly metrics?: MetricsService | undefined;
  /** Alert rules (absent: the alert routes answer 404). */
  readonly alerts?: AlertService | undefined;
  /**
   * The console served at `/` and `/console` (default: the built one,
   * `loadConsoleAssets()`; `false`: none).
   */
  readonly console?: ConsoleAssets | false;
  /** Areas mounted after the built-in ones (sources, sql, persons, analytics, tags). */
  readonly extraAreas?: readonly ApiArea[];
}

/** What the route modules share. */
export interface ApiContext {
  readonly deps: ApiDeps;
  readonly now: () => number;
}

/**
 * One area of the API (sources, persons, ...): a route module. Its routes
 * are mounted inside the API plugin, so they are behind the admin token and
 * answer errors as the API does.
 */
export interface ApiArea {
  readonly name: string;
  register(app: FastifyInstance, ctx: ApiContext): void | Promise<void>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A CORS preflight route: answered before (and without) the token check. */
    preflight?: boolean;
    /** The analytics token may call this route (see `ANALYTICS_READ`). */
    analytics?: boolean;
  }
}
