/**
 * The console's only way to the platform: the public HTTP API of the origin
 * that served it, with the token the user signed in with. The token is kept
 * in session storage (gone when the tab closes), never in a URL.
 */

/** `admin`: the admin token. `analyst`: the read-only analytics token (no writes, no SQL, PII masked). */
export type Role = 'admin' | 'analyst';

export interface Session {
  readonly token: string;
  readonly role: Role;
}

const KEY = 'cdp.console.session';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.token === 'string' && (s.role === 'admin' || s.role === 'analyst')
      ? { token: s.token, role: s.role }
      : undefined;
  } catch {
    return undefined;
  }
}

let current: Session | undefined = loadSession();

export function session(): Session | undefined {
  return current;
}

export function saveSession(s: Session | undefined): void {
  current = s;
  if (s === undefined) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(s));
}

/** An answer the API refused: its HTTP status, stable code, message and the field it names. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Listeners told when the token stops working (a 401), so the console asks to sign in again. */
const unauthorized = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

async function call(method: string, path: string, body: unknown, token: string): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'omit',
    cache: 'no-store',
  });
}

async function errorOf(res: Response): Promise<ApiError> {
  let j: { code?: unknown; message?: unknown; field?: unknown } = {};
  try {
    j = (await res.json()) as typeof j;
  } catch {
    // Not JSON: the status says enough.
  }
  return new ApiError(
    res.status,
    typeof j.code === 'string' ? j.code : `HTTP_${res.status}`,
    typeof j.message === 'string' ? j.message : res.statusText || 'Request failed',
    typeof j.field === 'string' ? j.field : undefined,
  );
}

/** Calls the API with the session's token; a refusal throws an {@link ApiError}. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const s = current;
  if (s === undefined) throw new ApiError(401, 'CDP_ERR_AUTH_MISSING', 'Sign in first');
  const res = await call(method, path, body, s.token);
  if (res.status === 401) {
    for (const fn of unauthorized) fn();
  }
  if (!res.ok) throw await errorOf(res);
  const text = await res.text();
  return (text === '' ? {} : JSON.parse(text)) as T;
}

export const get = <T>(path: string): Promise<T> => api<T>('GET', path);

/**
 * Signs in with a token: the admin token reads the sources (admin only); the
 * analytics token is refused there (403) but may read, so it signs in as an
 * analyst. Anything else is the API's refusal.
 */
export async function signIn(token: string): Promise<Session> {
  const res = await call('GET', '/v1/sources', undefined, token);
  if (res.ok) return { token, role: 'admin' };
  if (res.status === 403) {
    const probe = await call('GET', '/v1/tags', undefined, token);
    if (probe.ok || probe.status === 404) return { token, role: 'analyst' };
    throw await errorOf(probe);
  }
  throw await errorOf(res);
}

/** Query string of the defined values. */
export function qs(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}
