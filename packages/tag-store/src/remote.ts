import { CdpError, isErrorCode } from '@cdp/core';
import type { RunReport } from './run-report.js';

/**
 * A tag run on demand in another process (distributed mode): the API asks
 * the tag engine service (`POST <url>/v1/tags/recompute`, admin token) and
 * waits for its answer, so one engine owns every run.
 */
export function createRemoteRecompute(opts: {
  readonly url: string;
  readonly adminToken: string;
  /** How long a run may take before the API gives up (default 10 minutes). */
  readonly timeoutMs?: number;
}): (o: { full?: boolean }) => Promise<RunReport> {
  return async (o) => {
    let res: Response;
    try {
      res = await fetch(new URL('/v1/tags/recompute', opts.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(o.full === true ? { full: true } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000),
      });
    } catch (err) {
      throw new CdpError('CDP_ERR_TAG_RUN_FAILED', {
        statusCode: 503,
        retryable: true,
        cause: err,
        message: `The tag engine at ${opts.url} cannot be reached: ${(err as Error).message}`,
      });
    }
    const body = (await res.json().catch(() => ({}))) as {
      run?: RunReport;
      code?: string;
      message?: string;
      field?: string;
    };
    if (res.ok && body.run) return body.run;
    const code =
      typeof body.code === 'string' && isErrorCode(body.code)
        ? body.code
        : 'CDP_ERR_TAG_RUN_FAILED';
    throw new CdpError(code, {
      statusCode: res.status,
      message: body.message ?? `The tag engine answered ${res.status}`,
      ...(body.field !== undefined ? { field: body.field } : {}),
    });
  };
}
