import { CdpError, type JSONSchemaType } from '@cdp/core';
import { createIdentityRules, type IdentityRules } from './rules.js';

/**
 * The OneID merge-rule settings. Every service that normalises or links
 * identifiers reads the same ones: the identity service (stamper and
 * resolver) and ingest (the Person API normalises lookups with them), so a
 * lookup by phone number uses the resolver's default region.
 */
export interface IdentityRulesConfig {
  /** Region for phone numbers without a country code, e.g. `GB`, `US`. Default none (such numbers are refused). */
  CDP_IDENTITY_DEFAULT_REGION: string;
  /** Per-person limits per identifier type, JSON, merged over the defaults, e.g. `{"email":3,"external:*":2}`. */
  CDP_IDENTITY_LIMITS: string;
  /** Priority order, comma-separated, most trusted first; empty: the default order. */
  CDP_IDENTITY_PRIORITY: string;
  /** Extra values that never link anything, comma-separated. */
  CDP_IDENTITY_BLOCKLIST: string;
}

export const identityRulesConfigSchema: JSONSchemaType<IdentityRulesConfig> = {
  type: 'object',
  properties: {
    CDP_IDENTITY_DEFAULT_REGION: { type: 'string', default: '', pattern: '^([A-Z]{2})?$' },
    CDP_IDENTITY_LIMITS: { type: 'string', default: '' },
    CDP_IDENTITY_PRIORITY: { type: 'string', default: '' },
    CDP_IDENTITY_BLOCKLIST: { type: 'string', default: '' },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<IdentityRulesConfig>;

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/** The merge rules the settings describe (validated; every problem reported at once). */
export function identityRulesFrom(c: IdentityRulesConfig): IdentityRules {
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
