import type { JSONSchemaType } from '@cdp/core';

/** Settings of metrics and alerts (in the all-in-one runner and the metrics service). */
export interface MetricsConfig {
  /** Evaluate alert rules on a schedule in this process. Default true. */
  CDP_ALERTS_ENABLED: boolean;
  /** How often alert rules are evaluated, in ms. Default 60,000. */
  CDP_ALERTS_INTERVAL_MS: number;
  /** The conversion event of conversions, conversion_rate, revenue and aov. Default `Order Completed`. */
  CDP_METRICS_CONVERSION_EVENT: string;
}

export const metricsConfigSchema: JSONSchemaType<MetricsConfig> = {
  type: 'object',
  properties: {
    CDP_ALERTS_ENABLED: { type: 'boolean', default: true },
    CDP_ALERTS_INTERVAL_MS: { type: 'integer', default: 60_000, minimum: 100, maximum: 3_600_000 },
    CDP_METRICS_CONVERSION_EVENT: { type: 'string', default: 'Order Completed', minLength: 1 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<MetricsConfig>;
