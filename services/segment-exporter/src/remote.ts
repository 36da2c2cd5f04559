import { postRemoteRun } from '@cdp/core';
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
  return (name) =>
    postRemoteRun<AudienceRun>({
      url: opts.url,
      path: `/v1/audiences/${encodeURIComponent(name)}/refresh`,
      adminToken: opts.adminToken,
      key: 'run',
      code: 'CDP_ERR_AUDIENCE_RUN_FAILED',
      what: 'The segment exporter',
      timeoutMs: opts.timeoutMs,
    });
}
