import { describe, expect, it } from 'vitest';

import {
  DEFAULT_MAX_FUTURE_MS,
  DEFAULT_MIN_TIMESTAMP_MS,
  correctClockSkew,
  parseClientTime,
  type ClockSkewInput,
  type ClockSkewResult,
} from './clock-skew.js';

const ms = (iso: string): number => Date.parse(iso);
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('parseClientTime', () => {
  const cases: { value: unknown; expected: number | undefined }[] = [
    { value: '2024-05-01T12:00:00.123Z', expected: ms('2024-05-01T12:00:00.123Z') },
    { value: '2024-05-01T12:00:00Z', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01t12:00:00z', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01 12:00:00Z', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T14:00:00+02:00', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T14:00:00+0200', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T14:00:00+02', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T06:30:00-05:30', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T12:00:00.123456789Z', expected: ms('2024-05-01T12:00:00.123Z') },
    { value: '2024-05-01T12:00:00,5Z', expected: ms('2024-05-01T12:00:00.500Z') },
    { value: '2024-05-01T12:00', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01T12:00:00', expected: ms('2024-05-01T12:00:00Z') },
    { value: '2024-05-01', expected: ms('2024-05-01T00:00:00Z') },
    { value: '2024-02-29T00:00:00Z', expected: ms('2024-02-29T00:00:00Z') },
    { value: '  2024-05-01T12:00:00Z  ', expected: ms('2024-05-01T12:00:00Z') },
    { value: 1714564800123, expected: 1714564800123 },
    { value: 1714564800123.9, expected: 1714564800123 },
    { value: '1714564800123', expected: 1714564800123 },
    { value: new Date(1714564800123), expected: 1714564800123 },
    { value: '2023-02-29T00:00:00Z', expected: undefined },
    { value: '2024-04-31', expected: undefined },
    { value: '2024-13-01', expected: undefined },
    { value: '2024-00-10', expected: undefined },
    { value: '2024-05-01T24:00:00Z', expected: undefined },
    { value: '2024-05-01T12:60:00Z', expected: undefined },
    { value: '2024-05-01T12:00:00+25:00', expected: undefined },
    { value: 'March 7, 2024', expected: undefined },
    { value: 'Wed, 01 May 2024 12:00:00 GMT', expected: undefined },
    { value: 'yesterday', expected: undefined },
    { value: '', expected: undefined },
    { value: Number.NaN, expected: undefined },
    { value: Number.POSITIVE_INFINITY, expected: undefined },
    { value: 9e15, expected: undefined },
    { value: new Date(Number.NaN), expected: undefined },
    { value: true, expected: undefined },
    { value: null, expected: undefined },
    { value: undefined, expected: undefined },
    { value: { iso: '2024-05-01' }, expected: undefined },
  ];

  it.each(cases)('$value → $expected', ({ value, expected }) => {
    expect(parseClientTime(value)).toBe(expected);
  });
});

describe('correctClockSkew', () => {
  const receivedAt = ms('2024-05-01T12:00:00.000Z');

  const cases: {
    name: string;
    input: Omit<ClockSkewInput, 'receivedAt'>;
    expected: ClockSkewResult;
  }[] = [
    {
      name: 'no client times: receivedAt',
      input: {},
      expected: { timestamp: receivedAt, flag: '' },
    },
    {
      name: 'device clock 1 h slow, sent 2 s after the event',
      input: { originalTimestamp: '2024-05-01T10:59:58.000Z', sentAt: '2024-05-01T11:00:00.000Z' },
      expected: {
        timestamp: receivedAt - 2000,
        originalTimestamp: ms('2024-05-01T10:59:58.000Z'),
        sentAt: ms('2024-05-01T11:00:00.000Z'),
        flag: '',
      },
    },
    {
      name: 'device clock 3 h fast is corrected, not clamped',
      input: { originalTimestamp: '2024-05-01T15:00:00.000Z', sentAt: '2024-05-01T15:00:05.000Z' },
      expected: {
        timestamp: receivedAt - 5000,
        originalTimestamp: ms('2024-05-01T15:00:00.000Z'),
        sentAt: ms('2024-05-01T15:00:05.000Z'),
        flag: '',
      },
    },
    {
      name: 'lone timestamp (analytics.js) is the client clock and gets corrected',
      input: { timestamp: '2024-05-01T10:59:58.000Z', sentAt: '2024-05-01T11:00:00.000Z' },
      expected: {
        timestamp: receivedAt - 2000,
        originalTimestamp: ms('2024-05-01T10:59:58.000Z'),
        sentAt: ms('2024-05-01T11:00:00.000Z'),
        flag: '',
      },
    },
    {
      name: 'lone timestamp with trustClientTimestamp is used as given',
      input: {
        timestamp: '2024-05-01T10:59:58.000Z',
        sentAt: '2024-05-01T11:00:00.000Z',
        trustClientTimestamp: true,
      },
      expected: {
        timestamp: ms('2024-05-01T10:59:58.000Z'),
        originalTimestamp: ms('2024-05-01T10:59:58.000Z'),
        sentAt: ms('2024-05-01T11:00:00.000Z'),
        flag: '',
      },
    },
    {
      name: 'timestamp and originalTimestamp (replay): timestamp as given',
      input: {
        timestamp: '2023-01-01T00:00:00Z',
        originalTimestamp: '2022-12-31T23:00:00Z',
        sentAt: '2022-12-31T23:00:01Z',
      },
      expected: {
        timestamp: ms('2023-01-01T00:00:00Z'),
        originalTimestamp: ms('2022-12-31T23:00:00Z'),
        sentAt: ms('2022-12-31T23:00:01Z'),
        flag: '',
      },
    },
    {
      name: 'historical import through a server library keeps its time',
      input: { timestamp: '2023-03-01T00:00:00Z', sentAt: '2024-05-01T11:59:59.900Z' },
      expected: {
        timestamp: ms('2023-03-01T00:00:00.100Z'),
        originalTimestamp: ms('2023-03-01T00:00:00Z'),
        sentAt: ms('2024-05-01T11:59:59.900Z'),
        flag: '',
      },
    },
    {
      name: 'originalTimestamp without sentAt: as given',
      input: { originalTimestamp: '2024-05-01T11:30:00Z' },
      expected: {
        timestamp: ms('2024-05-01T11:30:00Z'),
        originalTimestamp: ms('2024-05-01T11:30:00Z'),
        flag: '',
      },
    },
    {
      name: 'epoch-ms numbers',
      input: { originalTimestamp: receivedAt - 10 * MIN, sentAt: receivedAt - 9 * MIN },
      expected: {
        timestamp: receivedAt - MIN,
        originalTimestamp: receivedAt - 10 * MIN,
        sentAt: receivedAt - 9 * MIN,
        flag: '',
      },
    },
    {
      name: 'unparseable sentAt only disables the correction',
      input: { originalTimestamp: '2024-05-01T11:00:00Z', sentAt: 'soon' },
      expected: {
        timestamp: ms('2024-05-01T11:00:00Z'),
        originalTimestamp: ms('2024-05-01T11:00:00Z'),
        flag: '',
      },
    },
    {
      name: 'invalid timestamp falls back to originalTimestamp',
      input: { timestamp: 'nope', originalTimestamp: '2024-05-01T11:00:00Z' },
      expected: {
        timestamp: ms('2024-05-01T11:00:00Z'),
        originalTimestamp: ms('2024-05-01T11:00:00Z'),
        flag: '',
      },
    },
    {
      name: 'unparseable timestamp: receivedAt, flagged',
      input: { timestamp: 'last tuesday', sentAt: '2024-05-01T11:00:00Z' },
      expected: {
        timestamp: receivedAt,
        sentAt: ms('2024-05-01T11:00:00Z'),
        flag: 'invalid_timestamp',
      },
    },
    {
      name: 'wrong type timestamp: receivedAt, flagged',
      input: { originalTimestamp: { when: 'now' } },
      expected: { timestamp: receivedAt, flag: 'invalid_timestamp' },
    },
    {
      name: 'null and empty times count as absent',
      input: { timestamp: null, originalTimestamp: '' },
      expected: { timestamp: receivedAt, flag: '' },
    },
    {
      name: 'future beyond 1 h: clamped',
      input: { timestamp: receivedAt + HOUR + 1 },
      expected: {
        timestamp: receivedAt,
        originalTimestamp: receivedAt + HOUR + 1,
        flag: 'future_clamped',
      },
    },
    {
      name: 'future exactly 1 h: kept',
      input: { timestamp: receivedAt + HOUR },
      expected: { timestamp: receivedAt + HOUR, originalTimestamp: receivedAt + HOUR, flag: '' },
    },
    {
      name: 'custom maxFutureMs',
      input: { timestamp: receivedAt + 2 * MIN, maxFutureMs: MIN },
      expected: {
        timestamp: receivedAt,
        originalTimestamp: receivedAt + 2 * MIN,
        flag: 'future_clamped',
      },
    },
    {
      name: 'trusted explicit timestamp is still clamped',
      input: {
        timestamp: receivedAt + 2 * HOUR,
        originalTimestamp: receivedAt,
        trustClientTimestamp: true,
      },
      expected: { timestamp: receivedAt, originalTimestamp: receivedAt, flag: 'future_clamped' },
    },
    {
      name: 'sentAt before the event pushes the result into the future: clamped',
      input: { originalTimestamp: receivedAt, sentAt: receivedAt - 2 * HOUR },
      expected: {
        timestamp: receivedAt,
        originalTimestamp: receivedAt,
        sentAt: receivedAt - 2 * HOUR,
        flag: 'future_clamped',
      },
    },
    {
      name: '1970 device clock without sentAt: before 2000, flagged',
      input: { timestamp: '1970-01-01T00:05:00Z' },
      expected: {
        timestamp: receivedAt,
        originalTimestamp: ms('1970-01-01T00:05:00Z'),
        flag: 'invalid_timestamp',
      },
    },
    {
      name: '1970 device clock with sentAt: corrected',
      input: { timestamp: '1970-01-01T00:05:00Z', sentAt: '1970-01-01T00:05:03Z' },
      expected: {
        timestamp: receivedAt - 3000,
        originalTimestamp: ms('1970-01-01T00:05:00Z'),
        sentAt: ms('1970-01-01T00:05:03Z'),
        flag: '',
      },
    },
    {
      name: 'custom minTimestampMs',
      input: { timestamp: '2019-06-01T00:00:00Z', minTimestampMs: ms('2020-01-01T00:00:00Z') },
      expected: {
        timestamp: receivedAt,
        originalTimestamp: ms('2019-06-01T00:00:00Z'),
        flag: 'invalid_timestamp',
      },
    },
  ];

  it.each(cases)('$name', ({ input, expected }) => {
    expect(correctClockSkew({ receivedAt, ...input })).toEqual(expected);
  });

  it('documents its defaults', () => {
    expect(DEFAULT_MAX_FUTURE_MS).toBe(HOUR);
    expect(new Date(DEFAULT_MIN_TIMESTAMP_MS).toISOString()).toBe('2000-01-01T00:00:00.000Z');
  });
});
