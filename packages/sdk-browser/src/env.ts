import type { PageSnapshot } from './context.js';
import type { Timers } from './delivery.js';
import { webStorage, type KV, type WebStorageLike } from './store.js';
import type { Transport } from './transport.js';
import { uuidv4, type CryptoLike } from './uuid.js';

/** Page lifecycle events the SDK listens to. */
export type LifecycleEvent = 'pagehide' | 'pageshow' | 'online' | 'visibilitychange';

/** Everything the SDK takes from the browser: one seam, replaced by a fake in unit tests. */
export interface Env {
  readonly now: () => number;
  readonly random: () => number;
  readonly uuid: () => string;
  readonly snapshot: () => PageSnapshot;
  /** `navigator.onLine` (true where unknown). */
  readonly online: () => boolean;
  /** Do-Not-Track or Global Privacy Control is on. */
  readonly dnt: () => boolean;
  /** The page is served over https (cookies get `Secure`). */
  readonly https: boolean;
  readonly local: KV;
  readonly session: KV;
  /** `document`, for cookies. */
  readonly cookieDocument: { cookie: string } | undefined;
  readonly transport: Transport;
  readonly timers: Timers;
  readonly on: (event: LifecycleEvent, fn: (e: { persisted?: boolean }) => void) => void;
  /** `document.visibilityState === 'hidden'`. */
  readonly hidden: () => boolean;
  readonly console: {
    log(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
}

type Listener = (e: { persisted?: boolean }) => void;
interface Target {
  addEventListener(type: string, fn: Listener): void;
}

/**
 * The browser globals the SDK touches, typed here so that the code compiles
 * with or without the DOM library (the workspace type-check has none).
 */
export interface BrowserGlobals extends Target {
  location: { href: string; pathname: string; search: string; protocol: string };
  document: Target & {
    title: string;
    referrer: string;
    cookie: string;
    visibilityState?: string;
  };
  navigator: {
    userAgent: string;
    language?: string;
    onLine?: boolean;
    doNotTrack?: string | null;
    globalPrivacyControl?: boolean;
    sendBeacon?(url: string, data: unknown): boolean;
  };
  screen?: { width: number; height: number };
  devicePixelRatio?: number;
  localStorage?: WebStorageLike;
  sessionStorage?: WebStorageLike;
  crypto?: CryptoLike;
  fetch(
    url: string,
    init: {
      method: string;
      body: string;
      keepalive: boolean;
      headers: Record<string, string>;
    },
  ): Promise<{
    status: number;
    headers: { get(name: string): string | null };
    text(): Promise<string>;
  }>;
  Blob: new (parts: string[], options: { type: string }) => unknown;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  console: Env['console'];
}

/** The browser's fetch and sendBeacon as a {@link Transport}. */
export function browserTransport(g: BrowserGlobals): Transport {
  return {
    async send(url, body, keepalive) {
      // text/plain keeps the request "simple": no CORS preflight.
      const res = await g.fetch(url, {
        method: 'POST',
        body,
        keepalive,
        headers: { 'Content-Type': 'text/plain' },
      });
      return {
        status: res.status,
        retryAfter: res.headers.get('Retry-After'),
        text: () => res.text(),
      };
    },
    beacon(url, body) {
      try {
        return g.navigator.sendBeacon?.(url, new g.Blob([body], { type: 'text/plain' })) === true;
      } catch {
        return false;
      }
    },
  };
}

function timezone(): string | undefined {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The real browser. */
export function browserEnv(g: BrowserGlobals = globalThis as unknown as BrowserGlobals): Env {
  const nav = g.navigator;
  return {
    now: () => Date.now(),
    random: Math.random,
    uuid: () => uuidv4(g.crypto),
    snapshot: () => ({
      href: g.location.href,
      pathname: g.location.pathname,
      search: g.location.search,
      title: g.document.title,
      referrer: g.document.referrer,
      userAgent: nav.userAgent,
      locale: nav.language,
      timezone: timezone(),
      screen: g.screen && {
        width: g.screen.width,
        height: g.screen.height,
        density: g.devicePixelRatio ?? 1,
      },
    }),
    online: () => nav.onLine !== false,
    dnt: () => nav.doNotTrack === '1' || nav.globalPrivacyControl === true,
    https: g.location.protocol === 'https:',
    local: webStorage(() => g.localStorage),
    session: webStorage(() => g.sessionStorage),
    cookieDocument: g.document,
    transport: browserTransport(g),
    timers: {
      set: (fn, ms) => g.setTimeout(fn, ms),
      clear: (h) => g.clearTimeout(h),
    },
    on: (event, fn) => (event === 'visibilitychange' ? g.document : g).addEventListener(event, fn),
    hidden: () => g.document.visibilityState === 'hidden',
    console: g.console,
  };
}
