import { CdpError, isErrorCode, type ErrorCode } from './errors.js';

/**
 * Asks another service of the platform to run something now (distributed
 * mode: the API forwards tag and audience runs to the process that owns
 * them): `POST <url><path>` with the admin token, waiting up to `timeoutMs`
 * (default 10 minutes) for `{<key>: T}`. An unreachable service is a
 * retryable 503 `code`; a refusal keeps the other side's code, status,
 * message and field.
 */
export async function postRemoteRun<T>(opts: {
  readonly url: string;
  readonly path: string;
  readonly adminToken: string;
  /** The answer's field holding the result (`run`). */
  readonly key: string;
  /** The code of a failure that names none of the catalogue. */
  readonly code: ErrorCode;
  /** What the other side is, for messages (`the tag engine`). */
  readonly what: string;
  readonly body?: unknown;
  readonly timeoutMs?: number | undefined;
}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(opts.path, opts.url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.adminToken}`,
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000),
    });
  } catch (err) {
    throw new CdpError(opts.code, {
      statusCode: 503,
      retryable: true,
      cause: err,
      message: `${opts.what} at ${opts.url} cannot be reached: ${(err as Error).message}`,
    });
  }
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (res.ok && body[opts.key] !== undefined) return body[opts.key] as T;
  const code =
    typeof body['code'] === 'string' && isErrorCode(body['code']) ? body['code'] : opts.code;
  throw new CdpError(code, {
    statusCode: res.status,
    message:
      typeof body['message'] === 'string' ? body['message'] : `${opts.what} answered ${res.status}`,
    ...(typeof body['field'] === 'string' ? { field: body['field'] } : {}),
  });
}
