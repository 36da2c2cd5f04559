import { postRemoteRun } from '@cdp/core';
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
  return (o) =>
    postRemoteRun<RunReport>({
      url: opts.url,
      path: '/v1/tags/recompute',
      adminToken: opts.adminToken,
      key: 'run',
      code: 'CDP_ERR_TAG_RUN_FAILED',
      what: 'The tag engine',
      body: o.full === true ? { full: true } : {},
      timeoutMs: opts.timeoutMs,
    });
}
