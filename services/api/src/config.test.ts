import { identityRulesFrom } from '@cdp/identity';
import { describe, expect, it } from 'vitest';
import { adhocLaneFrom, loadApiConfig, sqlLimitsFrom } from './config.js';

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

  it('gives ad-hoc SQL its limits: 30 s, 1 GiB, 16 MiB, 10,000 rows, 2 at once by default', () => {
    const config = loadApiConfig({});
    expect(sqlLimitsFrom(config)).toEqual({
      maxExecutionTime: 30,
      maxResultRows: 10_000,
      maxResultBytes: 16 * 1024 * 1024,
      maxMemoryUsage: 1024 ** 3,
      maxRowsToRead: 0,
      maxBytesToRead: 0,
    });
    expect(adhocLaneFrom(config)).toEqual({ maxConcurrent: 2, maxQueued: 8, queueTimeoutMs: 5000 });
    const set = loadApiConfig({
      CDP_SQL_MAX_EXECUTION_TIME: '2.5',
      CDP_SQL_MAX_MEMORY_USAGE: '100000000',
      CDP_SQL_MAX_CONCURRENT: '1',
    });
    expect(sqlLimitsFrom(set)).toMatchObject({
      maxExecutionTime: 2.5,
      maxMemoryUsage: 100_000_000,
    });
    expect(adhocLaneFrom(set)).toMatchObject({ maxConcurrent: 1 });
  });
  it('refuses SQL limits that make no sense, all at once', () => {
    expect(() =>
      loadApiConfig({
        CDP_SQL_MAX_EXECUTION_TIME: '0',
        CDP_SQL_MAX_RESULT_BYTES: String(2 ** 30),
        CDP_SQL_MAX_CONCURRENT: '0',
      }),
    ).toThrow(
      /CDP_SQL_MAX_EXECUTION_TIME[\s\S]*CDP_SQL_MAX_RESULT_BYTES[\s\S]*CDP_SQL_MAX_CONCURRENT/,
    );
  });
});
