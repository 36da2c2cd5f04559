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
    ['nothing', []],
  ])('refuses %s', (_label, lines) => {
    expect(() => checkReadonlyAst(lines)).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_READONLY' }),
    );
  });
});

describe('resolveReadonlyLimits', () => {
  it('defaults to 30 s and 10,000 rows', () => {
    expect(resolveReadonlyLimits()).toEqual({ maxExecutionTime: 30, maxResultRows: 10_000 });
    expect(resolveReadonlyLimits({ maxResultRows: 5 })).toEqual({
      maxExecutionTime: 30,
      maxResultRows: 5,
    });
  });

  it.each([
    [{ maxResultRows: 0 }, 'limits.maxResultRows'],
    [{ maxResultRows: 1.5 }, 'limits.maxResultRows'],
    [{ maxExecutionTime: -1 }, 'limits.maxExecutionTime'],
    [{ maxExecutionTime: Number.POSITIVE_INFINITY }, 'limits.maxExecutionTime'],
    [{ maxExecutionTime: 1e21 }, 'limits.maxExecutionTime'],
  ])('refuses %j naming the field', (limits, field) => {
    expect(() => resolveReadonlyLimits(limits)).toThrow(
      expect.objectContaining({ code: 'CDP_ERR_WAREHOUSE_QUERY', field }),
    );
  });
});

describe('wrapReadonlySql', () => {
  it('puts the statement on its own lines inside a subquery with query-scoped settings', () => {
    expect(wrapReadonlySql('SELECT 1', { maxExecutionTime: 2.5, maxResultRows: 7 })).toBe(
      "SELECT * FROM (\nSELECT 1\n)\nSETTINGS readonly = 1, max_execution_time = 2.5, max_result_rows = 7, result_overflow_mode = 'break'",
    );
  });
});
