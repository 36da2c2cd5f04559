/** What a send got back from the server. */
export interface SendResponse {
  readonly status: number;
  /** The `Retry-After` header (readable cross-origin only when the server exposes it). */
  readonly retryAfter: string | null;
  /** The response body, read on demand (debug logging of per-event rejections). */
  text(): Promise<string>;
}

/** How batches leave the page: the seam that tests replace. */
export interface Transport {
  /**
   * POSTs `body` as `text/plain` (a CORS "simple" request: no preflight).
   * `keepalive` lets the request outlive the page. Rejects on network errors.
   */
  send(url: string, body: string, keepalive: boolean): Promise<SendResponse>;
  /** Hands `body` to the browser to send even after unload; `true` when it accepted it. */
  beacon(url: string, body: string): boolean;
}

/** What to do with the events of a sent batch. */
export type SendOutcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'retry'; readonly waitMs?: number }
  | { readonly kind: 'drop'; readonly status: number };

/**
 * Classifies an HTTP status: 2xx (and 1xx/3xx, which fetch does not surface)
 * acknowledges the batch, per-event rejections in a 2xx body included; 408,
 * 429 and 5xx are retried (after `retryAfterMs` when the server said);
 * any other 4xx is final and the batch is dropped.
 */
export function outcomeOf(status: number, retryAfterMs: number | undefined): SendOutcome {
  if (status === 408 || status === 429 || status >= 500) {
    return retryAfterMs === undefined ? { kind: 'retry' } : { kind: 'retry', waitMs: retryAfterMs };
  }
  if (status >= 400) return { kind: 'drop', status };
  return { kind: 'ok' };
}

/**
 * The batch request body, `{"batch":[...],"writeKey":...,"sentAt":...}`,
 * assembled from already serialized events.
 */
export function batchBody(events: readonly string[], writeKey: string, sentAt: string): string {
  return `{"batch":[${events.join(',')}],"writeKey":${JSON.stringify(writeKey)},"sentAt":"${sentAt}"}`;
}
