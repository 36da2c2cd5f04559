import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readJsonEachRow } from './result-reader.js';

const stream = (...chunks: string[]): Readable => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('readJsonEachRow', () => {
  it('parses rows across chunk boundaries', async () => {
    const rows = await readJsonEachRow(stream('{"a":1}\n{"a"', ':2,"b":"x\\ny"}\n', '\n'), 1000);
    expect(rows).toEqual([{ a: 1 }, { a: 2, b: 'x\ny' }]);
    expect(await readJsonEachRow(stream(), 10)).toEqual([]);
  });

  it('stops reading past maxBytes with CDP_ERR_SQL_LIMIT naming max_result_bytes', async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled++;
        this.push(Buffer.from(`{"n":${pulled}}\n`));
      },
    });
    await expect(readJsonEachRow(endless, 100)).rejects.toMatchObject({
      code: 'CDP_ERR_SQL_LIMIT',
      field: 'max_result_bytes',
      retryable: false,
      statusCode: 422,
    });
    expect(endless.destroyed).toBe(true);
    expect(pulled).toBeLessThan(20);
  });

  it('refuses one chunk over the cap before decoding it', async () => {
    const big = Buffer.alloc(1_000_000, 0x61);
    await expect(readJsonEachRow(Readable.from([big]), 999_999)).rejects.toMatchObject({
      code: 'CDP_ERR_SQL_LIMIT',
      field: 'max_result_bytes',
    });
  });

  it.each([
    [
      'as text after the rows',
      '{"a":1}\nCode: 159. DB::Exception: Timeout exceeded: elapsed 1.0 s, maximum: 1. (TIMEOUT_EXCEEDED) (version 25.3)\n',
    ],
    [
      'behind an exception tag (25.11+)',
      '{"a":1}\r\n__exception__\r\nabcdefgh\r\nCode: 159. DB::Exception: Timeout exceeded: elapsed 1.0 s, maximum: 1. (TIMEOUT_EXCEEDED)\r\n95 abcdefgh\r\n__exception__\r\n',
    ],
    [
      'as a last exception row',
      '{"a":1}\n{"exception":"Code: 159. DB::Exception: Timeout exceeded: elapsed 1.0 s, maximum: 1. (TIMEOUT_EXCEEDED)"}\n',
    ],
  ])('turns an error the server sent %s into the translated error', async (_label, body) => {
    await expect(readJsonEachRow(stream(body), 10_000)).rejects.toMatchObject({
      code: 'CDP_ERR_SQL_LIMIT',
      field: 'max_execution_time',
    });
  });

  it('keeps a row that merely has an exception column among others', async () => {
    const body = '{"exception":"Code: 1. DB::Exception: x","n":1}\n';
    expect(await readJsonEachRow(stream(body), 1000)).toEqual([
      { exception: 'Code: 1. DB::Exception: x', n: 1 },
    ]);
  });

  it('refuses a line that is not a JSON row', async () => {
    await expect(readJsonEachRow(stream('a,b\n'), 1000)).rejects.toMatchObject({
      code: 'CDP_ERR_INTERNAL',
    });
  });
});
