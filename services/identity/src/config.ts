import type { JSONSchemaType } from '@cdp/core';
import {
  CdpError,
  loadConfig,
  mergeConfigSchemas,
  platformConfigSchema,
  type PlatformConfig,
} from '@cdp/core';
import { createIdentityRules, type IdentityRules } from '@cdp/identity';

/** Settings of the identity service (OneID). */
export interface IdentityOwnConfig {
  /** Run OneID between ingest and the loader. Default true; false loads events without one_id. */
  CDP_IDENTITY_ENABLED: boolean;
  /**
   * All-in-one runner only: ingest stamps one_id itself, reading the
   * resolver's graph in the same process (default true: one bus hop less).
   * false: a stamper consumes cdp.events.raw into cdp.events.resolved, as in
   * distributed mode.
   */
  CDP_IDENTITY_STAMP_IN_INGEST: boolean;
  /** Region for phone numbers without a country code, e.g. `GB`, `US`. Default none (such numbers are refused). */
  CDP_IDENTITY_DEFAULT_REGION: string;
  /** Per-person limits per identifier type, JSON, merged over the defaults, e.g. `{"email":3,"external:*":2}`. */
  CDP_IDENTITY_LIMITS: string;
  /** Priority order, comma-separated, most trusted first; empty: the default order. */
  CDP_IDENTITY_PRIORITY: string;
  /** Extra values that never link anything, comma-separated. */
  CDP_IDENTITY_BLOCKLIST: string;
  /** Port of the service's /healthz and /metrics when run alone. Default 8082. */
  CDP_IDENTITY_PORT: number;
}

export type IdentityConfig = PlatformConfig & IdentityOwnConfig;

export const identityConfigSchema: JSONSchemaType<IdentityOwnConfig> = {
  type: 'object',
  properties: {
    CDP_IDENTITY_ENABLED: { type: 'boolean', default: true },
    CDP_IDENTITY_STAMP_IN_INGEST: { type: 'boolean', default: true },
    CDP_IDENTITY_DEFAULT_REGION: { type: 'string', default: '', pattern: '^([A-Z]{2})?$' },
    CDP_IDENTITY_LIMITS: { type: 'string', default: '' },
    CDP_IDENTITY_PRIORITY: { type: 'string', default: '' },
    CDP_IDENTITY_BLOCKLIST: { type: 'string', default: '' },
    CDP_IDENTITY_PORT: { type: 'integer', default: 8082, minimum: 0, maximum: 65535 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<IdentityOwnConfig>;

export function loadIdentityConfig(
  env: Record<string, string | undefined>,
  known: readonly string[] = [],
): Readonly<IdentityConfig> {
  return loadConfig(mergeConfigSchemas(platformConfigSchema, identityConfigSchema), env, {
    ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'],
    known,
  });
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The merge rules the settings describe (validated; every problem reported at once). */
export function identityRulesFrom(c: IdentityOwnConfig): IdentityRules {
  let limits: Record<string, number> | undefined;
  if (c.CDP_IDENTITY_LIMITS.trim() !== '') {
    try {
      limits = JSON.parse(c.CDP_IDENTITY_LIMITS) as Record<string, number>;
    } catch {
      throw new CdpError('CDP_ERR_CONFIG_INVALID', {
        field: 'CDP_IDENTITY_LIMITS',
        message: 'CDP_IDENTITY_LIMITS must be a JSON object such as {"email":3}',
      });
    }
  }
  return createIdentityRules({
    ...(limits ? { limits } : {}),
    ...(c.CDP_IDENTITY_PRIORITY.trim() !== '' ? { priority: list(c.CDP_IDENTITY_PRIORITY) } : {}),
    ...(c.CDP_IDENTITY_DEFAULT_REGION !== ''
      ? { defaultRegion: c.CDP_IDENTITY_DEFAULT_REGION }
      : {}),
    blockList: list(c.CDP_IDENTITY_BLOCKLIST),
  });
}
