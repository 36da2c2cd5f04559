import { describe, expect, it } from 'vitest';
import { ClickHouseError } from '@clickhouse/client';
import { CdpError } from '@cdp/core';
import { translateError } from './translate-error.js';

const ch = (code: number, type: string, message = `${type} happened`): ClickHouseError =>
  new ClickHouseError({ message, code: String(code), type });

const sysErr = (code: string, message: string): Error =>
  Object.assign(new Error(message), { code });

describe('translateError', () => {
  it.each([
    [
      'syntax error',
      ch(62, 'SYNTAX_ERROR', 'Syntax error: failed at position 1'),
      'CDP_ERR_WAREHOUSE_QUERY',
      false,
    ],
    [
      'unknown table',
      ch(60, 'UNKNOWN_TABLE', 'Table cdp.nope does not exist'),
      'CDP_ERR_WAREHOUSE_QUERY',
      false,
    ],
    ['type mismatch', ch(53, 'TYPE_MISMATCH'), 'CDP_ERR_WAREHOUSE_QUERY', false],
    [
      'bad input data',
      ch(27, 'CANNOT_PARSE_INPUT_ASSERTION_FAILED'),
      'CDP_ERR_WAREHOUSE_QUERY',
      false,
    ],
    [
      'readonly',
      ch(164, 'READONLY', 'Cannot execute query in readonly mode'),
      'CDP_ERR_WAREHOUSE_READONLY',
      false,
    ],
    ['too many parts', ch(252, 'TOO_MANY_PARTS'), 'CDP_ERR_WAREHOUSE_UNAVAILABLE', true],
    [
      "the server's total memory",
      ch(241, 'MEMORY_LIMIT_EXCEEDED', '(total) memory limit exceeded: would use 9.31 GiB'),
      'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      true,
    ],
    [
      'too many queries',
      ch(202, 'TOO_MANY_SIMULTANEOUS_QUERIES'),
      'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      true,
    ],
    ['authentication', ch(516, 'AUTHENTICATION_FAILED'), 'CDP_ERR_WAREHOUSE_UNAVAILABLE', false],
    ['access denied outside read-only', ch(497, 'ACCESS_DENIED'), 'CDP_ERR_WAREHOUSE_QUERY', false],
    [
      'connection refused',
      sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8123'),
      'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      true,
    ],
    [
      'connection reset',
      sysErr('ECONNRESET', 'read ECONNRESET'),
      'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      true,
    ],
    ['client request timeout', new Error('Timeout error.'), 'CDP_ERR_WAREHOUSE_UNAVAILABLE', true],
    [
      'chDB: engine bound to another directory',
      sysErr('CHDB_CONNECTION', 'only one active data directory per process'),
      'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      false,
    ],
    [
      'chDB: bad parameter value',
      sysErr('CHDB_BIND', 'Refusing to serialize unsafe integer'),
      'CDP_ERR_WAREHOUSE_QUERY',
      false,
    ],
    ['unknown', new TypeError('x is not a function'), 'CDP_ERR_INTERNAL', false],
  ] as const)('%s → %s', (_label, err, code, retryable) => {
    const out = translateError(err);
    expect(out).toBeInstanceOf(CdpError);
    expect(out).toMatchObject({ code, retryable });
    expect(out.cause).toBe(err);
  });

  // Measured messages of ClickHouse 26.7 (chDB), one per limit of an ad-hoc query.
  it.each([
    [
      ch(159, 'TIMEOUT_EXCEEDED', 'Timeout exceeded: elapsed 1007.724 ms, maximum: 1000 ms.'),
      'max_execution_time',
    ],
    [
      ch(160, 'TOO_SLOW', 'Estimated query execution time (92 seconds) is too long. Maximum: 30.'),
      'max_execution_time',
    ],
    [
      ch(
        241,
        'MEMORY_LIMIT_EXCEEDED',
        'Query memory limit exceeded: would use 96.08 MiB (attempt to allocate chunk of 64.00 MiB), maximum: 95.37 MiB.',
      ),
      'max_memory_usage',
    ],
    [
      ch(
        241,
        'MEMORY_LIMIT_EXCEEDED',
        'Memory limit (for query) exceeded: would use 1.00 GiB, maximum: 953.67 MiB',
      ),
      'max_memory_usage',
    ],
    [
      ch(
        158,
        'TOO_MANY_ROWS',
        "Limit for rows (controlled by 'max_rows_to_read' setting) exceeded, max rows: 1.00 million, current rows: 50.00 million.",
      ),
      'max_rows_to_read',
    ],
    [
      ch(
        307,
        'TOO_MANY_BYTES',
        'Limit for rows or bytes to read exceeded, max bytes: 976.56 KiB, current bytes: 1022.02 KiB',
      ),
      'max_bytes_to_read',
    ],
    [
      ch(
        396,
        'TOO_MANY_ROWS_OR_BYTES',
        'Limit for result exceeded, max bytes: 976.56 KiB, current bytes: 7.63 MiB.',
      ),
      'max_result_bytes',
    ],
    [
      ch(
        396,
        'TOO_MANY_ROWS_OR_BYTES',
        'Limit for result exceeded, max rows: 10.00, current rows: 65.41 thousand.',
      ),
      'max_result_rows',
    ],
  ] as const)('%s is CDP_ERR_SQL_LIMIT naming %s, not retryable', (err, limit) => {
    const out = translateError(err, { readonly: true });
    expect(out).toMatchObject({ code: 'CDP_ERR_SQL_LIMIT', field: limit, retryable: false });
    expect(out.statusCode).toBeGreaterThanOrEqual(400);
    expect(out.statusCode).toBeLessThan(500);
    expect(out.message).toContain(limit);
    expect(out.message).toContain(err.message);
    // The same outside read-only queries: a limit is not load.
    expect(translateError(err)).toMatchObject({ code: 'CDP_ERR_SQL_LIMIT', retryable: false });
  });

  it("keeps ClickHouse's message", () => {
    const out = translateError(
      ch(62, 'SYNTAX_ERROR', 'Syntax error: failed at position 1 (SELEC)'),
    );
    expect(out.message).toBe('ClickHouse: Syntax error: failed at position 1 (SELEC)');
  });

  it('reads the code from a wrapped chDB message when the outer error has none', () => {
    const inner = new Error('Code: 252. DB::Exception: Too many parts (300). (TOO_MANY_PARTS)');
    const outer = new Error('insert failed', { cause: inner });
    expect(translateError(outer)).toMatchObject({
      code: 'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      retryable: true,
    });
  });

  it('access denied inside a read-only query is a read-only refusal', () => {
    expect(translateError(ch(497, 'ACCESS_DENIED'), { readonly: true }).code).toBe(
      'CDP_ERR_WAREHOUSE_READONLY',
    );
  });

  it('passes a CdpError through unchanged', () => {
    const e = new CdpError('CDP_ERR_WAREHOUSE_READONLY');
    expect(translateError(e)).toBe(e);
  });
});
