import { isCdpError, loadConfig } from '@cdp/core';
import { describe, expect, it } from 'vitest';
import { identityRulesConfigSchema, identityRulesFrom } from './rules-config.js';

const load = (env: Record<string, string>) => loadConfig(identityRulesConfigSchema, env);

describe('identity rules settings', () => {
  it('turns the CDP_IDENTITY_* settings into merge rules', () => {
    const rules = identityRulesFrom(
      load({
        CDP_IDENTITY_DEFAULT_REGION: 'GB',
        CDP_IDENTITY_LIMITS: '{"email":2}',
        CDP_IDENTITY_PRIORITY: 'email, user_id, external:*, phone, device_id, anonymous_id',
        CDP_IDENTITY_BLOCKLIST: 'test@example.com,,guest-1',
      }),
    );
    expect(rules.defaultRegion).toBe('GB');
    expect(rules.limits['email']).toBe(2);
    expect(rules.priority.slice(0, 2)).toEqual(['email', 'user_id']);
    expect(rules.blockList).toEqual(['test@example.com', 'guest-1']);
  });
  it('has the defaults when nothing is set', () => {
    const rules = identityRulesFrom(load({}));
    expect(rules.defaultRegion).toBeUndefined();
    expect(rules.blockList).toEqual([]);
  });
  it('names the setting that is wrong', () => {
    for (const [env, field] of [
      [{ CDP_IDENTITY_LIMITS: '{email:2}' }, 'CDP_IDENTITY_LIMITS'],
      [{ CDP_IDENTITY_DEFAULT_REGION: 'gb' }, 'CDP_IDENTITY_DEFAULT_REGION'],
    ] as const) {
      try {
        identityRulesFrom(load(env));
        expect.unreachable();
      } catch (e) {
        expect(isCdpError(e) && JSON.stringify(e)).toContain(field);
      }
    }
  });
});
