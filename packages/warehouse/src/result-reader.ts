import { CdpError } from '@cdp/core';
import { translateError } from './translate-error.js';

/** A byte stream that can be stopped (a `Readable`). */
export interface ByteStream extends AsyncIterable<Buffer | Uint8Array | string> {
  destroy(error?: Error): unknown;
}

/** Where a server reports an error after it has started sending rows. */
const TRAILING_EXCEPTION = /Code: \d+\. DB::Exception[^\n]*/;

/**
 * Reads a JSONEachRow answer of at most `maxBytes` bytes into rows. Past
 * `maxBytes` the stream is stopped and the query fails with
 * `CDP_ERR_SQL_LIMIT` (`field: 'max_result_bytes'`): nothing bigger is held,
 * and nothing is decoded to a string before it is known to fit (a 512 MiB
 * line is more than V8 can make a string of; inside `@clickhouse/client`'s
 * row stream that throw was uncaught and ended the process).
 *
 * A ClickHouse server that fails after it started answering appends the
 * error to the body (as text, or as a last `{"exception": ...}` row): that
 * becomes the translated error, not a row.
 */
export async function readJsonEachRow(
  stream: ByteStream,
  maxBytes: number,
): Promise<Record<string, unknown>[]> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    total += buf.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new CdpError('CDP_ERR_SQL_LIMIT', {
        message: `The query went over max_result_bytes: its answer is over ${maxBytes} bytes`,
        field: 'max_result_bytes',
      });
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks, total).toString('utf8');
  const rows: Record<string, unknown>[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    if (line !== '') rows.push(parseRow(line, text.slice(start)));
    start = end + 1;
  }
  const last = rows.at(-1);
  const exception = last === undefined ? undefined : trailingExceptionRow(last);
  if (exception !== undefined) throw translateError(new Error(exception), { readonly: true });
  return rows;
}

function parseRow(line: string, rest: string): Record<string, unknown> {
  try {
    const row: unknown = JSON.parse(line);
    if (row !== null && typeof row === 'object' && !Array.isArray(row)) {
      return row as Record<string, unknown>;
    }
  } catch {
    // Not a row: a trailing error, or an answer that is not JSONEachRow.
  }
  const exception = TRAILING_EXCEPTION.exec(rest)?.[0];
  if (exception !== undefined) throw translateError(new Error(exception), { readonly: true });
  throw new CdpError('CDP_ERR_INTERNAL', {
    message: `The warehouse answered a line that is not a JSON row: ${line.slice(0, 200)}`,
  });
}

/** `{"exception": "Code: 159. DB::Exception: ..."}`: `http_write_exception_in_output_format`. */
function trailingExceptionRow(row: Record<string, unknown>): string | undefined {
  const keys = Object.keys(row);
  const value = row['exception'];
  return keys.length === 1 && typeof value === 'string' && TRAILING_EXCEPTION.test(value)
    ? value
    : undefined;
}
