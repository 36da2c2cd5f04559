import { describe, expect, it } from 'vitest';
import { resolveKafkaOptions, type KafkaBusOptions } from './options.js';

describe('resolveKafkaOptions', () => {
  it('applies the documented defaults and freezes the result', () => {
    const o = resolveKafkaOptions({ brokers: [' 127.0.0.1:9092 ', ''] });
    expect(o.brokers).toEqual(['127.0.0.1:9092']);
    expect(o).toMatchObject({
      clientId: 'cdp',
      defaultPartitions: 4,
      lingerMs: 2,
      compression: 'none',
      maxMessageBytes: 1_000_000,
    });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('reports every problem at once', () => {
    const bad = {
      brokers: ['nohost'],
      lingerMs: -1,
      compression: 'snappy',
      heartbeatIntervalMs: 40_000,
      typo: 1,
    } as unknown as KafkaBusOptions;
    let message = '';
    try {
      resolveKafkaOptions(bad);
    } catch (e) {
      expect(e).toMatchObject({ code: 'CDP_ERR_CONFIG_INVALID' });
      message = (e as Error).message;
    }
    for (const part of [
      'typo: unknown option',
      'brokers: "nohost" is not host:port',
      'lingerMs',
      'compression',
      'heartbeatIntervalMs',
    ]) {
      expect(message).toContain(part);
    }
  });

  it('requires brokers', () => {
    expect(() => resolveKafkaOptions({ brokers: [] })).toThrow(/brokers: required/);
  });
});
