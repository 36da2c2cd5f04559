import { describe, expect, it } from 'vitest';
import { isCi, kafkaBrokersForTest, kafkaUnavailableReason } from './brokers-for-test.js';

describe('kafkaBrokersForTest', () => {
  it('prefers the brokers from the global setup, then KAFKA_BROKERS', () => {
    expect(
      kafkaBrokersForTest({ CDP_TEST_KAFKA_BROKERS: 'a:1, b:2', KAFKA_BROKERS: 'c:3' }),
    ).toEqual(['a:1', 'b:2']);
    expect(kafkaBrokersForTest({ KAFKA_BROKERS: 'c:3' })).toEqual(['c:3']);
  });

  it('returns undefined outside CI when there is no broker, with the reason', () => {
    const env = { CDP_TEST_KAFKA_UNAVAILABLE: 'no Docker engine answers; no java' };
    expect(kafkaBrokersForTest(env)).toBeUndefined();
    expect(kafkaUnavailableReason(env)).toBe('no Docker engine answers; no java');
  });

  it('throws in CI when there is no broker, so Kafka tests fail rather than skip', () => {
    expect(() =>
      kafkaBrokersForTest({ CI: 'true', CDP_TEST_KAFKA_UNAVAILABLE: 'no java' }),
    ).toThrow(/required in CI.*no java/);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
  ])('CI=%j is CI: %s', (value, expected) => {
    expect(isCi({ CI: value })).toBe(expected);
  });
});
