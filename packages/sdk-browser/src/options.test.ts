import { describe, expect, it } from 'vitest';
import { CdpConfigError, DEFAULT_OPTIONS, normalizeHost, resolveOptions } from './options.js';

describe('resolveOptions', () => {
  it('applies the defaults, group by group, and freezes the result', () => {
    const o = resolveOptions({
      host: 'https://c.example',
      batch: { size: 5 },
      consent: { required: true },
    });
    expect(o.batch).toEqual({ size: 5, waitMs: 1000 });
    expect(o.consent).toEqual({ required: true, categories: ['analytics'], beforeConsent: 'hold' });
    expect(o.cookie).toEqual({ name: 'cdp_aid', maxAgeSeconds: 31_536_000, domain: '' });
    expect(o.session.timeoutMs).toBe(1_800_000);
    expect(Object.isFrozen(o) && Object.isFrozen(o.batch)).toBe(true);
    expect(resolveOptions()).toEqual(DEFAULT_OPTIONS);
  });

  it('reports every bad field at once, by path', () => {
    let err: unknown;
    try {
      resolveOptions({
        batchSize: 5,
        batch: { size: 0, wait: 1 },
        retry: 3,
        consent: { categories: 'analytics', beforeConsent: 'queue' },
        debug: 'yes',
        session: { timeoutMs: Number.NaN },
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CdpConfigError);
    expect((err as CdpConfigError).code).toBe('CDP_ERR_SDK_CONFIG');
    expect((err as CdpConfigError).problems).toEqual([
      'batchSize is not an option',
      'batch.size must be a positive number',
      'batch.wait is not an option',
      'retry must be an object',
      'consent.categories must be an array of strings',
      'debug must be a boolean',
      'session.timeoutMs must be a positive number',
      'consent.beforeConsent must be "hold" or "drop"',
    ]);
  });

  it('refuses options that are not an object', () => {
    expect(() => resolveOptions('fast')).toThrow(CdpConfigError);
  });
});

describe('normalizeHost', () => {
  it.each([
    ['', ''],
    ['https://c.example/', 'https://c.example'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['c.example', 'https://c.example'],
    ['//c.example', '//c.example'],
  ])('%j -> %j', (host, expected) => {
    expect(normalizeHost(host)).toBe(expected);
  });
});
