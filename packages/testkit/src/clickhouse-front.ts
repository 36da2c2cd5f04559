/**
 * A ClickHouse HTTP interface in front of chDB, for tests of the distributed
 * topology: chDB binds one data directory to one process, so several service
 * processes share one engine by talking to this process over HTTP, through
 * `@clickhouse/client`, as they would to a ClickHouse server
 * (`CLICKHOUSE_URL`).
 *
 * What it implements is what `@clickhouse/client` 1.x sends and reads:
 * - `GET`/`POST /ping` answers `Ok.`; `GET`/`POST /` runs one statement.
 * - The statement is the `query` URL parameter, then `\n`, then the body
 *   (ClickHouse's rule: an INSERT names its format in `query` and sends the
 *   data in the body); without `query`, the body alone. A gzip request body
 *   (`Content-Encoding: gzip`) is inflated.
 * - `database` is the session's default database; `param_<name>` binds
 *   `{name:Type}` with `SET param_<name> = '<text>'` (the text as a server
 *   reads it; chdb's own binder runs one bound query per process at a time,
 *   see packages/warehouse/src/session-params.ts); `default_format` is the
 *   output format (ClickHouse's default: TabSeparated); HTTP-only parameters
 *   are skipped; every other parameter is a setting, `SET` on the session.
 * - Each request runs on a chDB session of its own (about 3 ms to open), so
 *   settings and parameters do not leak between requests, and requests run
 *   side by side as they do on a server.
 * - An error answers as a server does: a 4xx/5xx status, the header
 *   `X-ClickHouse-Exception-Code`, and the body
 *   `Code: N. DB::Exception: <message> (NAME) (version V)`.
 * - `Accept-Encoding: gzip` with `enable_http_compression=1` gzips the answer.
 * - `X-ClickHouse-Query-Id`, `X-ClickHouse-Summary`, `X-ClickHouse-Format`
 *   and `X-ClickHouse-Timezone` headers.
 *
 * Not implemented: users and passwords (any credentials are accepted),
 * `session_id` (server-side sessions), multipart parameters, cancelling a
 * statement when its client goes away, progress headers.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createGunzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { Session } from 'chdb';
import { CHDB_ENGINE_ARGS } from '@cdp/core';

/** Options of {@link startClickHouseFront}. */
export interface ClickHouseFrontOptions {
  /** chDB data directory, created when missing. One per process. */
  readonly dataDir: string;
  /** Port to listen on (default 0: the OS picks one). */
  readonly port?: number;
  /** Address to listen on (default `127.0.0.1`). */
  readonly host?: string;
}

/** A running front. */
export interface ClickHouseFront {
  /** `http://host:port`, for `CLICKHOUSE_URL`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, waits for running statements, closes the engine. */
  close(): Promise<void>;
}

/**
 * URL parameters that belong to the HTTP layer, not to the engine: the
 * client sends some of them, and chDB refuses them as unknown settings.
 */
const HTTP_ONLY = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'user',
  'password',
  'quota_key',
  'role',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'http_send_progress_interval_ms',
  'http_wait_end_of_query',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_compression_method',
  'http_native_compression_disable_checksumming_on_decompress',
  'buffer_size',
  'compress',
  'decompress',
]);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

/** Error codes a server answers with a status other than 500 (ClickHouse's HTTPHandler). */
const STATUS_BY_CODE: ReadonlyMap<number, number> = new Map([
  [62, 400], // SYNTAX_ERROR
  [27, 400], // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  [6, 400], // CANNOT_PARSE_TEXT
  [26, 400], // CANNOT_PARSE_QUOTED_STRING
  [38, 400], // CANNOT_PARSE_DATE
  [41, 400], // CANNOT_PARSE_DATETIME
  [72, 400], // CANNOT_PARSE_NUMBER
  [115, 400], // UNKNOWN_SETTING
  [456, 400], // UNKNOWN_QUERY_PARAMETER
  [457, 400], // BAD_QUERY_PARAMETER
  [16, 404], // NO_SUCH_COLUMN_IN_TABLE
  [46, 404], // UNKNOWN_FUNCTION
  [47, 404], // UNKNOWN_IDENTIFIER
  [60, 404], // UNKNOWN_TABLE
  [81, 404], // UNKNOWN_DATABASE
  [164, 403], // READONLY
  [497, 403], // ACCESS_DENIED
]);

/** A string literal as ClickHouse reads it: backslash and quote escaped. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** A statement's failure, in the shape a server sends (see {@link errorBody}). */
class FrontError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const CHDB_ERROR = /Code: (\d+)\. DB::Exception: ([\s\S]*?)\s*\(([A-Z0-9_]*[A-Z]{3}[A-Z0-9_]*)\)/;

function frontErrorOf(err: unknown): FrontError {
  if (err instanceof FrontError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const m = CHDB_ERROR.exec(message);
  if (m) return new FrontError(Number(m[1]), m[3] ?? 'UNKNOWN_EXCEPTION', m[2] ?? message);
  return new FrontError(1001, 'STD_EXCEPTION', message);
}

/** The SQL and session set-up of one request, from its URL and body. */
interface Statement {
  readonly sql: string;
  readonly database: string | undefined;
  readonly format: string;
  readonly queryId: string;
  /** `SET` statements to run first: settings, then parameters. */
  readonly setup: readonly string[];
  readonly compress: boolean;
}

function statementOf(url: URL, body: string, method: string): Statement {
  const search = url.searchParams;
  const query = search.get('query') ?? '';
  if (search.has('session_id')) {
    throw new FrontError(48, 'NOT_IMPLEMENTED', 'This front has no HTTP sessions (session_id)');
  }
  // GET has no body; POST appends it after a newline (INSERT data, or the whole statement).
  const sql = method === 'GET' || body === '' ? query : query === '' ? body : `${query}\n${body}`;
  if (sql.trim() === '') throw new FrontError(62, 'SYNTAX_ERROR', 'Empty query');
  const settings: string[] = [];
  const params: string[] = [];
  for (const [key, value] of search) {
    if (key.startsWith('param_')) {
      if (!IDENTIFIER.test(key)) {
        throw new FrontError(457, 'BAD_QUERY_PARAMETER', `Bad parameter name ${key}`);
      }
      params.push(`${key} = ${quote(value)}`);
    } else if (!HTTP_ONLY.has(key)) {
      if (!IDENTIFIER.test(key)) {
        throw new FrontError(115, 'UNKNOWN_SETTING', `Unknown setting ${key}`);
      }
      settings.push(`${key} = ${NUMBER.test(value) ? value : quote(value)}`);
    }
  }
  const setup: string[] = [];
  if (settings.length > 0) setup.push(`SET ${settings.join(', ')}`);
  if (params.length > 0) setup.push(`SET ${params.join(', ')}`);
  const database = search.get('database') ?? undefined;
  if (database !== undefined && !IDENTIFIER.test(database)) {
    throw new FrontError(81, 'UNKNOWN_DATABASE', `Database ${database} does not exist`);
  }
  return {
    sql,
    database,
    format: search.get('default_format') ?? 'TabSeparated',
    queryId: search.get('query_id') ?? randomUUID(),
    setup,
    compress: search.get('enable_http_compression') === '1',
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const encoding = String(req.headers['content-encoding'] ?? '').toLowerCase();
  let source: Readable = req;
  if (encoding === 'gzip') source = req.pipe(createGunzip());
  else if (encoding !== '' && encoding !== 'identity') {
    throw new FrontError(1, 'UNSUPPORTED_METHOD', `Unsupported Content-Encoding ${encoding}`);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function contentTypeOf(format: string): string {
  if (/^JSON/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  return 'text/plain; charset=UTF-8';
}

/**
 * Starts the front in this process (the engine is this process's chDB).
 * Tests run it as a process of its own: see `spawnClickHouseFront`.
 */
export async function startClickHouseFront(opts: ClickHouseFrontOptions): Promise<ClickHouseFront> {
  await mkdir(opts.dataDir, { recursive: true });
  // Held open for the front's lifetime: the engine stays up between requests.
  const anchor = new Session(opts.dataDir, { connectionArgs: CHDB_ENGINE_ARGS });
  const serverVersion = (await anchor.queryAsync('SELECT version()')).text().trim();
  const running = new Set<Promise<unknown>>();

  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: Buffer,
    compress: boolean,
  ): void => {
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (compress && /\bgzip\b/.test(accepts) && body.length > 0) {
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    res.end(body);
  };

  const run = async (statement: Statement): Promise<Buffer> => {
    const session = new Session(opts.dataDir);
    try {
      if (statement.database !== undefined) {
        await session.queryAsync(`USE \`${statement.database}\``);
      }
      for (const set of statement.setup) await session.queryAsync(set);
      const result = await session.queryAsync(statement.sql, { format: statement.format });
      return Buffer.from(result.bytes());
    } finally {
      session.close();
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://front');
    const method = req.method ?? 'GET';
    if (url.pathname === '/ping' || (url.pathname === '/' && method === 'GET' && !url.search)) {
      req.resume();
      send(
        req,
        res,
        200,
        { 'Content-Type': 'text/html; charset=UTF-8' },
        Buffer.from('Ok.\n'),
        false,
      );
      return;
    }
    let statement: Statement | undefined;
    const queryId = url.searchParams.get('query_id') ?? randomUUID();
    const base = {
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Server-Display-Name': 'chdb-front',
    };
    try {
      if (url.pathname !== '/') {
        req.resume();
        throw new FrontError(
          1,
          'UNSUPPORTED_METHOD',
          `There is no handle ${url.pathname} (this front serves / and /ping)`,
        );
      }
      if (method !== 'GET' && method !== 'POST') {
        req.resume();
        throw new FrontError(1, 'UNSUPPORTED_METHOD', `Method ${method} is not allowed`);
      }
      if (String(req.headers['content-type'] ?? '').startsWith('multipart/')) {
        req.resume();
        throw new FrontError(48, 'NOT_IMPLEMENTED', 'This front has no multipart parameters');
      }
      const body = await readBody(req);
      statement = statementOf(url, body, method);
      const started = process.hrtime.bigint();
      const bytes = await run(statement);
      const elapsed = process.hrtime.bigint() - started;
      send(
        req,
        res,
        200,
        {
          ...base,
          'Content-Type': contentTypeOf(statement.format),
          'X-ClickHouse-Format': statement.format,
          'X-ClickHouse-Summary': JSON.stringify({
            read_rows: '0',
            read_bytes: '0',
            written_rows: '0',
            written_bytes: '0',
            total_rows_to_read: '0',
            result_rows: '0',
            result_bytes: String(bytes.length),
            elapsed_ns: String(elapsed),
          }),
        },
        bytes,
        statement.compress,
      );
    } catch (err) {
      const e = frontErrorOf(err);
      const text = `Code: ${e.code}. DB::Exception: ${e.message} (${e.type}) (version ${serverVersion})\n`;
      send(
        req,
        res,
        STATUS_BY_CODE.get(e.code) ?? 500,
        {
          ...base,
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(e.code),
        },
        Buffer.from(text),
        statement?.compress ?? url.searchParams.get('enable_http_compression') === '1',
      );
    }
  };

  const server: Server = createServer((req, res) => {
    const p = handle(req, res).catch((err: unknown) => {
      // Only a broken socket lands here (the handler answers every statement).
      res.destroy(err instanceof Error ? err : new Error(String(err)));
    });
    running.add(p);
    void p.finally(() => running.delete(p));
  });
  server.keepAliveTimeout = 10_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port ?? 0 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await Promise.allSettled([...running]);
      await closed;
      anchor.close();
    },
  };
}
