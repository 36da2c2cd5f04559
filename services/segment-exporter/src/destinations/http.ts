/**
 * Requests to destinations: retried on 5xx, 429, 408, timeouts and what a
 * platform says is transient (backoff with full jitter, honouring
 * Retry-After), paced to a destination's requests per minute, answered as
 * `ok` or `refused` (a 4xx: the records are refused for good); throws
 * CDP_ERR_EXPORT_FAILED once every try failed.
 */
import { CdpError, type Logger } from '@cdp/core';

const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long to wait before the next try: Retry-After when given, else backoff with full jitter. */
export function retryDelayMs(
  attempt: number,
  retryAfter: string | null,
  random: () => number = Math.random,
  nowMs: number = Date.now(),
): number {
  if (retryAfter !== null) {
    const s = Number(retryAfter);
    if (Number.isFinite(s) && s >= 0) return Math.min(s * 1000, 300_000);
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.min(Math.max(at - nowMs, 0), 300_000);
  }
  const cap = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export interface HttpDeps {
  readonly fetch?: typeof fetch | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  readonly logger: Logger;
}

export interface RequestSpec {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | FormData;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** For logs and errors: the destination's name. */
  readonly label: string;
  /** Paces requests to this many a minute (per `paceKey`). */
  readonly perMinute?: number;
  readonly paceKey?: string;
  /**
   * A platform's verdict on a 2xx or 4xx answer: `retry` (transient, e.g.
   * TikTok's code 40100 in a 200, Google's CONCURRENT_MODIFICATION),
   * `refused` or `ok`. Default: 2xx ok, 408/429 retry, other 4xx refused.
   */
  readonly classify?: (status: number, body: string) => 'ok' | 'retry' | 'refused' | undefined;
}

export type HttpOutcome =
  | { readonly kind: 'ok'; readonly status: number; readonly body: string }
  | {
      readonly kind: 'refused';
      readonly status: number;
      readonly reason: string;
      readonly body: string;
    };

/** When each paced destination may send next (this process). */
const nextSlot = new Map<string, number>();

async function pace(
  key: string,
  perMinute: number,
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const gap = 60_000 / perMinute;
  const now = Date.now();
  const at = Math.max(now, nextSlot.get(key) ?? 0);
  nextSlot.set(key, at + gap);
  if (at > now) await sleep(at - now);
}

export async function requestWithRetry(deps: HttpDeps, spec: RequestSpec): Promise<HttpOutcome> {
  const doFetch = deps.fetch ?? fetch;
  const sleep = deps.sleep ?? sleepReal;
  let last = '';
  for (let attempt = 0; attempt < spec.maxAttempts; attempt++) {
    if (spec.perMinute !== undefined)
      await pace(spec.paceKey ?? spec.url, spec.perMinute, sleepReal);
    let status = 0;
    let retryAfter: string | null = null;
    let text = '';
    try {
      const res = await doFetch(spec.url, {
        method: spec.method ?? 'POST',
        headers: spec.headers ?? {},
        ...(spec.body === undefined ? {} : { body: spec.body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(spec.timeoutMs),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text().catch(() => '');
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    const short = text.slice(0, 500);
    if (status !== 0) {
      const verdict =
        spec.classify?.(status, text) ??
        (status >= 200 && status < 300
          ? 'ok'
          : status >= 400 && status < 500 && status !== 429 && status !== 408
            ? 'refused'
            : 'retry');
      if (verdict === 'ok') return { kind: 'ok', status, body: text };
      if (verdict === 'refused')
        return {
          kind: 'refused',
          status,
          reason: `HTTP ${status}${short ? `: ${short}` : ''}`,
          body: text,
        };
      last = `HTTP ${status}${short ? `: ${short}` : ''}`;
    }
    if (attempt + 1 < spec.maxAttempts) {
      const wait = retryDelayMs(attempt, retryAfter, deps.random);
      deps.logger.warn(
        { destination: spec.label, attempt: attempt + 1, waitMs: wait, error: last.slice(0, 300) },
        'export_retry',
      );
      await sleep(wait);
    }
  }
  throw new CdpError('CDP_ERR_EXPORT_FAILED', {
    message: `${spec.label}: ${spec.maxAttempts} tries failed (last: ${last.slice(0, 500)})`,
    retryable: true,
  });
}

/** Parses a JSON answer, or undefined. */
export function jsonOf(body: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
