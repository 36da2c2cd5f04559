import { gzipSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isCdpError } from '@cdp/core';
import { decodeBody, looksLikeJsonObject } from './decode-body.js';

const json = Buffer.from(JSON.stringify({ batch: [{ userId: 'u', event: 'E' }] }));

function codeOf(
  f: () => unknown,
): { code: string; status: number; field?: string | undefined } | undefined {
  try {
    f();
  } catch (e) {
    if (isCdpError(e)) return { code: e.code, status: e.statusCode, field: e.field };
    throw e;
  }
  return undefined;
}

describe('decodeBody', () => {
  it.each([
    ['no encoding', undefined, json],
    ['identity', 'identity', json],
    ['gzip', 'gzip', gzipSync(json)],
    ['x-gzip, any case', 'X-GZIP', gzipSync(json)],
    ['deflate', 'deflate', deflateSync(json)],
  ])('%s', (_name, enc, body) => {
    expect(decodeBody(body, enc, 1 << 20).equals(json)).toBe(true);
  });

  it('refuses encodings it cannot undo with 415 and the field', () => {
    expect(codeOf(() => decodeBody(json, 'br', 1 << 20))).toEqual({
      code: 'CDP_ERR_INGEST_CONTENT_ENCODING',
      status: 415,
      field: 'content-encoding',
    });
  });

  it('refuses a corrupt gzip body with 400', () => {
    expect(codeOf(() => decodeBody(Buffer.from('nope'), 'gzip', 1 << 20))).toMatchObject({
      code: 'CDP_ERR_INGEST_CONTENT_ENCODING',
      status: 400,
    });
  });

  it('stops inflating at the limit (no decompression bomb)', () => {
    const bomb = gzipSync(Buffer.alloc(10 << 20, 0x20));
    expect(bomb.length).toBeLessThan(20_000);
    expect(codeOf(() => decodeBody(bomb, 'gzip', 1 << 20))).toMatchObject({
      code: 'CDP_ERR_INGEST_BODY_TOO_LARGE',
      status: 413,
    });
  });
});

describe('looksLikeJsonObject', () => {
  it.each([
    ['{"a":1}', true],
    [' \n\t {"a":1}', true],
    ['event=x&userId=y', false],
    ['', false],
    ['[1]', false],
  ])('%j -> %s', (text, expected) => {
    expect(looksLikeJsonObject(Buffer.from(text))).toBe(expected);
  });
});
