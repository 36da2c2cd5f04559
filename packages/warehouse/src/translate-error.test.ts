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
    ['memory limit', ch(241, 'MEMORY_LIMIT_EXCEEDED'), 'CDP_ERR_WAREHOUSE_UNAVAILABLE', true],
    ['execution timeout', ch(159, 'TIMEOUT_EXCEEDED'), 'CDP_ERR_WAREHOUSE_UNAVAILABLE', true],
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
