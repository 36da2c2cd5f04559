/** What to do with events made before consent is given. */
export type BeforeConsent = 'hold' | 'drop';

/** Options of `load(writeKey, options)`; every one is optional, see {@link DEFAULT_OPTIONS}. */
export interface CdpOptions {
  /** Origin of the ingest service, e.g. `https://cdp.example.com`; `''` sends to this page's origin. */
  host?: string;
  batch?: {
    /** Send as soon as this many events wait. */
    size?: number;
    /** Send at most this long after the first waiting event. */
    waitMs?: number;
  };
  retry?: {
    /** Give an event up after this many failed attempts (5xx, 429, network error while online). */
    maxAttempts?: number;
    /** First backoff delay; doubles per consecutive failure, with jitter. */
    baseMs?: number;
    /** Largest backoff delay. */
    maxMs?: number;
  };
  /** The persistent (localStorage) queue of this tab; the oldest events go first when full. */
  queue?: {
    maxEvents?: number;
    /** Characters of JSON. */
    maxBytes?: number;
  };
  /** The first-party cookie holding the anonymous id. */
  cookie?: {
    name?: string;
    maxAgeSeconds?: number;
    /** e.g. `.example.com` to share across subdomains; `''` = this host only. */
    domain?: string;
  };
  /** Prefix of every localStorage / sessionStorage key. */
  storagePrefix?: string;
  session?: {
    /** A session ends after this much inactivity (no event). */
    timeoutMs?: number;
  };
  consent?: {
    /** When true nothing is sent, and nothing is stored, until `consent()` grants `categories`. */
    required?: boolean;
    /** Categories that must all be granted before events are sent. */
    categories?: string[];
    /** `hold` keeps earlier events in memory until consent; `drop` discards them. */
    beforeConsent?: BeforeConsent;
  };
  /** Send and store nothing when `navigator.doNotTrack === '1'` or Global Privacy Control is on. */
  respectDnt?: boolean;
  /** Log dropped events and rejections to the console. */
  debug?: boolean;
}

/** Every option with its value applied. */
export interface ResolvedOptions {
  readonly host: string;
  readonly batch: { readonly size: number; readonly waitMs: number };
  readonly retry: { readonly maxAttempts: number; readonly baseMs: number; readonly maxMs: number };
  readonly queue: { readonly maxEvents: number; readonly maxBytes: number };
  readonly cookie: {
    readonly name: string;
    readonly maxAgeSeconds: number;
    readonly domain: string;
  };
  readonly storagePrefix: string;
  readonly session: { readonly timeoutMs: number };
  readonly consent: {
    readonly required: boolean;
    readonly categories: readonly string[];
    readonly beforeConsent: BeforeConsent;
  };
  readonly respectDnt: boolean;
  readonly debug: boolean;
}

/** The defaults of every option. */
export const DEFAULT_OPTIONS: ResolvedOptions = {
  host: '',
  batch: { size: 20, waitMs: 1000 },
  retry: { maxAttempts: 10, baseMs: 500, maxMs: 60_000 },
  queue: { maxEvents: 1000, maxBytes: 500_000 },
  cookie: { name: 'cdp_aid', maxAgeSeconds: 365 * 24 * 3600, domain: '' },
  storagePrefix: 'cdp_',
  session: { timeoutMs: 30 * 60_000 },
  consent: { required: false, categories: ['analytics'], beforeConsent: 'hold' },
  respectDnt: false,
  debug: false,
};

/** Options that were refused; `problems` names every bad field at once. */
export class CdpConfigError extends Error {
  readonly code = 'CDP_ERR_SDK_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`[cdp] invalid options: ${problems.join('; ')}`);
    this.name = 'CdpConfigError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies the defaults to `input` following the shape of `defaults`: unknown
 * keys and values of the wrong type are reported (by dotted path), never
 * ignored; numbers must be positive.
 */
function merge(
  defaults: Record<string, unknown>,
  input: Record<string, unknown>,
  path: string,
  problems: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const key of Object.keys(input)) {
    const at = path + key;
    const d = defaults[key];
    const v = input[key];
    if (!(key in defaults)) problems.push(`${at} is not an option`);
    else if (v === undefined) continue;
    else if (Array.isArray(d)) {
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = [...v];
      else problems.push(`${at} must be an array of strings`);
    } else if (isObject(d)) {
      if (isObject(v)) out[key] = merge(d, v, `${at}.`, problems);
      else problems.push(`${at} must be an object`);
    } else if (typeof v !== typeof d) problems.push(`${at} must be a ${typeof d}`);
    else if (typeof v === 'number' && !(v > 0 && v < Infinity))
      problems.push(`${at} must be a positive number`);
    else out[key] = v;
  }
  return Object.freeze(out);
}

/**
 * Validates `input` once and returns every option resolved, frozen at every level.
 * Throws {@link CdpConfigError} listing all problems.
 */
export function resolveOptions(input: unknown = {}): ResolvedOptions {
  const problems: string[] = [];
  if (!isObject(input)) throw new CdpConfigError(['options must be an object']);
  const o = merge(
    DEFAULT_OPTIONS as unknown as Record<string, unknown>,
    input,
    '',
    problems,
  ) as unknown as ResolvedOptions;
  if (o.consent.beforeConsent !== 'hold' && o.consent.beforeConsent !== 'drop')
    problems.push('consent.beforeConsent must be "hold" or "drop"');
  if (problems.length > 0) throw new CdpConfigError(problems);
  return o;
}

/**
 * The origin to send to, without a trailing slash: a bare host gets `https://`;
 * `''` stays `''` (same origin).
 */
export function normalizeHost(host: string): string {
  const h = host.trim().replace(/\/+$/, '');
  return h === '' || /^(https?:)?\/\//.test(h) ? h : `https://${h}`;
}
