import type { Warehouse } from '@cdp/warehouse';
import {
  buildAttributionReport,
  buildAttributionSql,
  buildFunnelReport,
  buildPathsReport,
  parseAttributionQuery,
  parseFunnelRequest,
  parsePathsRequest,
  type AttributionQuery,
  type AttributionReport,
  type FunnelReport,
  type FunnelRow,
  type PathsReport,
  type RawPathRow,
} from '@cdp/analytics';

/** The data API's analytics: attribution, funnels and paths over the warehouse. */
export interface AnalyticsService {
  /** `GET /v1/attribution` (query string as given). */
  attribution(query: Readonly<Record<string, string | undefined>>): Promise<AttributionReport>;
  /** `POST /v1/funnels`. */
  funnel(body: unknown): Promise<FunnelReport>;
  /** `POST /v1/paths`. */
  paths(body: unknown): Promise<PathsReport>;
}

/** Dependencies of {@link createAnalyticsService}. */
export interface AnalyticsDeps {
  readonly warehouse: Pick<Warehouse, 'query'>;
  /** Clock for default ranges (epoch ms). */
  readonly now: () => number;
}

/** Validates, queries ClickHouse, runs the attribution models in process, shapes. */
export function createAnalyticsService(deps: AnalyticsDeps): AnalyticsService {
  const { warehouse } = deps;
  return {
    async attribution(query) {
      const q: AttributionQuery = parseAttributionQuery(query, deps.now());
      const { sql, params } = buildAttributionSql(q);
      return buildAttributionReport(q, await warehouse.query<RawPathRow>(sql, params));
    },
    async funnel(body) {
      const q = parseFunnelRequest(body);
      return buildFunnelReport(q, await warehouse.query<FunnelRow>(q.query.sql, q.query.params));
    },
    async paths(body) {
      const q = parsePathsRequest(body);
      return buildPathsReport(
        q,
        await warehouse.query<{ source: string; target: string; count: number }>(
          q.query.sql,
          q.query.params,
        ),
      );
    },
  };
}
