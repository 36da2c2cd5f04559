import { CdpError, isErrorCode } from '@cdp/core';
import type { AudienceRun } from './runs.js';

/**
 * An audience run on demand in another process (distributed mode): the API
 * asks the exporter service (`POST <url>/v1/audiences/:name/refresh`, admin
 * token) and waits for its answer, so one process owns every run.
 */
export function createRemoteRefresh(opts: {
  readonly url: string;
  readonly adminToken: string;
  /** How long a run may take before the API gives up (default 10 minutes). */
  readonly timeoutMs?: number;
}): (name: string) => Promise<AudienceRun> {
  return async (name) => {
    let res: Response;
    try {
      res = await fetch(new URL(`/v1/audiences/${encodeURIComponent(name)}/refresh`, opts.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.adminToken}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000),
      });
    } catch (err) {
      throw new CdpError('CDP_ERR_AUDIENCE_RUN_FAILED', {
        statusCode: 503,
        retryable: true,
        cause: err,
        message: `The segment exporter at ${opts.url} cannot be reached: ${(err as Error).message}`,
      });
    }
    const body = (await res.json().catch(() => ({}))) as {
      run?: AudienceRun;
      code?: string;
      message?: string;
      field?: string;
    };
    if (res.ok && body.run) return body.run;
    const code =
      typeof body.code === 'string' && isErrorCode(body.code)
        ? body.code
        : 'CDP_ERR_AUDIENCE_RUN_FAILED';
    throw new CdpError(code, {
      statusCode: res.status,
      message: body.message ?? `The segment exporter answered ${res.status}`,
      ...(body.field !== undefined ? { field: body.field } : {}),
    });
  };
}
