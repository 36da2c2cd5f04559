import { describe, expect, it } from 'vitest';
import { checkReadonlyAst, resolveReadonlyLimits, wrapReadonlySql } from './readonly-guard.js';

const select = [
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 1)',
];

describe('checkReadonlyAst', () => {
  it.each([
    ['a plain SELECT', select],
    ['INTERSECT', ['SelectIntersectExceptQuery (children 2)', ' SelectQuery (children 1)']],
    ['a table named users', [...select, '      TableIdentifier users']],
    [
      "a literal 'Set'",
      [...select, "     Literal 'Set'", '     Identifier Set', '     Function Set (children 1)'],
    ],
  ])('accepts %s', (_label, lines) => {
    expect(() => checkReadonlyAst(lines)).not.toThrow();
  });

  it.each([
    ['a SETTINGS clause', [...select, '   Set']],
    [
      'SETTINGS in a nested subquery',
      [...select, '        SelectQuery (children 2)', '         Set'],
    ],
    ['not a SELECT', ['InsertQuery (children 1)']],
    ['the file() function', [...select, '    Function file (alias f) (children 1)']],
    ['the file() table function', [...select, '      Function file (children 1)']],
    ['catboostEvaluate', [...select, '    Function catboostEvaluate (children 1)']],
    ['system.users', [...select, '      TableIdentifier system.users']],
    [
      'system.grants in a subquery',
      [...select, '             TableIdentifier system.grants (alias g)'],
    ],
    ['nothing', []],
  ])('refuses %s', (_label, lines) => {
    expect(() => checkReadonlyAst(lines)).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_READONLY' }),
    );
  });
});

describe('resolveReadonlyLimits', () => {
  const defaults = {
    maxExecutionTime: 30,
    maxResultRows: 10_000,
    maxResultBytes: 16 * 1024 * 1024,
    maxMemoryUsage: 1024 ** 3,
    maxRowsToRead: 0,
    maxBytesToRead: 0,
  };

  it('defaults to 30 s, 10,000 rows, 16 MiB of answer, 1 GiB of memory, no read limits', () => {
    expect(resolveReadonlyLimits()).toEqual(defaults);
    expect(resolveReadonlyLimits({ maxResultRows: 5, maxMemoryUsage: 1e6 })).toEqual({
      ...defaults,
      maxResultRows: 5,
      maxMemoryUsage: 1e6,
    });
  });

  it.each([
    [{ maxResultRows: 0 }, 'limits.maxResultRows'],
    [{ maxResultRows: 1.5 }, 'limits.maxResultRows'],
    [{ maxExecutionTime: -1 }, 'limits.maxExecutionTime'],
    [{ maxExecutionTime: Number.POSITIVE_INFINITY }, 'limits.maxExecutionTime'],
    [{ maxExecutionTime: 1e21 }, 'limits.maxExecutionTime'],
    [{ maxResultBytes: 0 }, 'limits.maxResultBytes'],
    // Over what one V8 string can hold once decoded.
    [{ maxResultBytes: 2 ** 30 }, 'limits.maxResultBytes'],
    [{ maxMemoryUsage: 0 }, 'limits.maxMemoryUsage'],
    [{ maxRowsToRead: -1 }, 'limits.maxRowsToRead'],
    [{ maxBytesToRead: 0.5 }, 'limits.maxBytesToRead'],
  ])('refuses %j naming the field', (limits, field) => {
    expect(() => resolveReadonlyLimits(limits)).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_QUERY', field }),
    );
  });
});

describe('wrapReadonlySql', () => {
  it('puts the statement on its own lines inside a subquery with query-scoped limits', () => {
    expect(
      wrapReadonlySql('SELECT 1', {
        maxExecutionTime: 2.5,
        maxResultRows: 7,
        maxResultBytes: 1000,
        maxMemoryUsage: 2000,
        maxRowsToRead: 0,
        maxBytesToRead: 3000,
      }),
    ).toBe(
      'SELECT * FROM (\nSELECT 1\n)\nLIMIT 8\n' +
        "SETTINGS readonly = 1, max_execution_time = 2.5, timeout_overflow_mode = 'throw', " +
        "max_result_bytes = 1000, result_overflow_mode = 'throw', max_memory_usage = 2000, " +
        "max_rows_to_read = 0, max_bytes_to_read = 3000, read_overflow_mode = 'throw'\n" +
        'FORMAT JSONEachRow',
    );
  });
});
