import { identityRulesFrom } from '@cdp/identity';
import { describe, expect, it } from 'vitest';
import { loadApiConfig } from './config.js';

describe('loadApiConfig', () => {
  it("reads OneID's merge rules, which the Person API normalises lookups with", () => {
    const config = loadApiConfig({
      CDP_IDENTITY_DEFAULT_REGION: 'GB',
      CDP_IDENTITY_BLOCKLIST: 'guest-1',
    });
    const rules = identityRulesFrom(config);
    expect(rules.defaultRegion).toBe('GB');
    expect(rules.blockList).toEqual(['guest-1']);
  });
  it('still refuses settings nobody reads', () => {
    expect(() => loadApiConfig({ CDP_IDENTITY_DEFAULT_REGON: 'GB' })).toThrow(
      /CDP_IDENTITY_DEFAULT_REGON: unknown setting/,
    );
  });
});
