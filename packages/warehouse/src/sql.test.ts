import { describe, expect, it } from 'vitest';
import {
  clickHouseTimeIso,
  clickHouseTimeMs,
  quoteString,
  quoteTable,
  toJsonEachRow,
  toQueryParams,
} from './sql.js';

describe('quoteTable', () => {
  it.each([
    ['events', '`events`'],
    ['cdp.events', '`cdp`.`events`'],
  ])('%s → %s', (name, quoted) => {
    expect(quoteTable(name)).toBe(quoted);
  });

  it.each([['events; DROP TABLE x'], ['a.b.c'], ['`x`'], [''], ['1abc']])('refuses %j', (name) => {
    expect(() => quoteTable(name)).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_QUERY', field: 'table' }),
    );
  });
});

describe('quoteString', () => {
  it('escapes backslash and quote', () => {
    expect(quoteString("a'b\\c")).toBe("'a\\'b\\\\c'");
  });
});

describe('toQueryParams', () => {
  it.each([
    ['a date with milliseconds', new Date('2024-05-01T00:00:00.123Z'), '1714521600.123'],
    ['a whole-second date', new Date('2024-05-01T00:00:00Z'), '1714521600'],
    ['a date close to the epoch', new Date(5), '1970-01-01 00:00:00.005'],
    ['the epoch', new Date(0), '1970-01-01 00:00:00'],
    ['a string', "x'y", "x'y"],
    ['a number', 5, 5],
  ])('%s', (_label, value, expected) => {
    expect(toQueryParams({ v: value })).toEqual({ v: expected });
  });

  it('formats dates inside arrays', () => {
    expect(toQueryParams({ v: [new Date('2024-05-01T00:00:00.5Z'), 'x'] })).toEqual({
      v: ['1714521600.500', 'x'],
    });
  });

  it('refuses an invalid date', () => {
    expect(() => toQueryParams({ v: new Date(Number.NaN) })).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_QUERY' }),
    );
  });
});

describe('toJsonEachRow', () => {
  it('writes one JSON object per line, dates as ISO, bigints as strings', () => {
    expect(toJsonEachRow([{ a: new Date(0), b: 10n ** 20n }, { a: null }])).toBe(
      '{"a":"1970-01-01T00:00:00.000Z","b":"100000000000000000000"}\n{"a":null}\n',
    );
  });
});

describe('clickHouseTime', () => {
  it('reads a DateTime64 as JSONEachRow answers it, as UTC', () => {
    expect(clickHouseTimeIso('2026-12-04 20:00:01.250')).toBe('2026-12-04T20:00:01.250Z');
    expect(clickHouseTimeMs('1970-01-01 00:00:01.000')).toBe(1000);
  });
});
