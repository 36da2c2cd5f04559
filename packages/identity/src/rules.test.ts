import { CdpError } from '@cdp/core';
import { describe, expect, it } from 'vitest';
import {
  compileRules,
  createIdentityRules,
  DEFAULT_IDENTITY_RULES,
  type IdentityRulesInput,
} from './rules.js';

describe('createIdentityRules', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_IDENTITY_RULES).toEqual({
      limits: { user_id: 1, email: 5, phone: 5, device_id: 20, anonymous_id: 100, 'external:*': 5 },
      priority: ['user_id', 'external:*', 'email', 'phone', 'device_id', 'anonymous_id'],
      defaultRegion: undefined,
      phoneValidation: 'valid',
      blockList: [],
      maxValueLength: 1024,
      ignoredExternalTypes: [],
    });
    expect(Object.isFrozen(DEFAULT_IDENTITY_RULES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_IDENTITY_RULES.limits)).toBe(true);
  });

  it('merges limits over the defaults and ranks external types', () => {
    const rules = createIdentityRules({
      limits: { anonymous_id: 10, 'external:loyalty_id': 1 },
      priority: [
        'user_id',
        'external:loyalty_id',
        'email',
        'external:*',
        'phone',
        'device_id',
        'anonymous_id',
      ],
    });
    const c = compileRules(rules);
    expect(c.limit('anonymous_id')).toBe(10);
    expect(c.limit('email')).toBe(5);
    expect(c.limit('external:loyalty_id')).toBe(1);
    expect(c.limit('external:other')).toBe(5);
    expect(c.rank('external:loyalty_id')).toBeLessThan(c.rank('email'));
    expect(c.rank('external:other')).toBeGreaterThan(c.rank('email'));
    expect(c.rank('external:other')).toBeLessThan(c.rank('phone'));
  });

  it('reports every problem at once', () => {
    const bad = {
      limits: { user_id: 2, email: 0, cookie: 3 },
      priority: ['user_id', 'user_id', 'email'],
      defaultRegion: 'XX',
      phoneValidation: 'strict',
      maxValueLength: 0,
      colour: 'blue',
    } as unknown as IdentityRulesInput;
    let error: unknown;
    try {
      createIdentityRules(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CdpError);
    const err = error as CdpError;
    expect(err.code).toBe('CDP_ERR_CONFIG_INVALID');
    for (const part of [
      'colour: unknown setting',
      'limits.email: expected an integer',
      'limits.cookie: unknown identifier type',
      'limits.user_id: must be 1',
      'priority: "user_id" is listed twice',
      'priority: "phone" is missing',
      'priority: "external:*" is missing',
      'defaultRegion',
      'phoneValidation',
      'maxValueLength',
    ]) {
      expect(err.message).toContain(part);
    }
  });
});
