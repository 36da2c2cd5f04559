/** Key-value storage as the SDK uses it: localStorage, sessionStorage, a cookie, memory. */
export interface KV {
  get(key: string): string | null;
  /** `false` when the value could not be stored (quota, storage disabled). */
  set(key: string, value: string): boolean;
  remove(key: string): void;
  keys(): string[];
}

/** The members of the Web Storage API that {@link webStorage} uses. */
export interface WebStorageLike {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A KV in memory only. */
export function memoryKV(): KV {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k) ?? null,
    set: (k, v) => (m.set(k, v), true),
    remove: (k) => void m.delete(k),
    keys: () => [...m.keys()],
  };
}

/** `fn()`, or `fallback` when it throws (storage blocked, quota, gone). */
function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/**
 * localStorage or sessionStorage through a getter, because merely reading
 * `window.localStorage` throws where storage is blocked. When the storage
 * cannot be used at all, a memory KV stands in.
 */
export function webStorage(get: () => WebStorageLike | undefined | null): KV {
  const ws = safe(() => {
    const s = get();
    s?.setItem('__cdp_probe', '1');
    s?.removeItem('__cdp_probe');
    return s;
  }, undefined);
  if (!ws) return memoryKV();
  return {
    get: (k) => safe(() => ws.getItem(k), null),
    set: (k, v) => safe(() => (ws.setItem(k, v), true), false),
    remove: (k) => safe(() => ws.removeItem(k), undefined),
    keys: () =>
      safe(() => {
        const out: string[] = [];
        for (let i = 0; i < ws.length; i++) out.push(ws.key(i) ?? '');
        return out;
      }, []),
  };
}

/** Attributes of the cookies the SDK writes. */
export interface CookieOptions {
  readonly maxAgeSeconds: number;
  /** `''` for a host-only cookie. */
  readonly domain: string;
  /** Add `Secure` (pages served over https). */
  readonly secure: boolean;
}

/** The value of cookie `name` in a `document.cookie` string, or `null`. */
export function readCookie(cookies: string, name: string): string | null {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      return safe(() => decodeURIComponent(part.slice(eq + 1).trim()), null);
    }
  }
  return null;
}

/** A `document.cookie` assignment: first-party, `Path=/`, `SameSite=Lax`. */
export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  return (
    `${name}=${encodeURIComponent(value)}; Max-Age=${Math.round(o.maxAgeSeconds)}; Path=/; SameSite=Lax` +
    (o.domain ? `; Domain=${o.domain}` : '') +
    (o.secure ? '; Secure' : '')
  );
}

/** Cookies of `doc` as a KV (keys are cookie names; `keys()` lists nothing). */
export function cookieKV(doc: { cookie: string } | undefined, o: CookieOptions): KV {
  const read = (k: string): string | null =>
    safe(() => (doc ? readCookie(doc.cookie, k) : null), null);
  // Cookies can be blocked (sandboxed frame): localStorage holds the value then.
  const write = (k: string, v: string, maxAgeSeconds: number): void =>
    safe(
      () => void (doc && (doc.cookie = serializeCookie(k, v, { ...o, maxAgeSeconds }))),
      undefined,
    );
  return {
    get: read,
    set: (k, v) => (write(k, v, o.maxAgeSeconds), read(k) === v),
    remove: (k) => write(k, '', 0),
    keys: () => [],
  };
}

/** A KV whose writes wait in memory until it is opened (consent). */
export interface GatedKV extends KV {
  /** Lets writes through, first replaying those made while closed. */
  open(): void;
}

/**
 * Wraps `inner` so that nothing is written to it before `open()`: until then
 * writes land in memory and reads see them first.
 */
export function gatedKV(inner: KV, opened: boolean): GatedKV {
  const pending = new Map<string, string | null>();
  let isOpen = opened;
  return {
    get: (k) => (pending.has(k) ? (pending.get(k) ?? null) : inner.get(k)),
    set: (k, v) => (isOpen ? inner.set(k, v) : (pending.set(k, v), true)),
    remove: (k) => (isOpen ? inner.remove(k) : void pending.set(k, null)),
    keys: () => [...new Set([...inner.keys(), ...pending.keys()])],
    open: () => {
      if (isOpen) return;
      isOpen = true;
      for (const [k, v] of pending) {
        if (v === null) inner.remove(k);
        else inner.set(k, v);
      }
      pending.clear();
    },
  };
}
