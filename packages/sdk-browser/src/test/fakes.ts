/**
 * Test doubles for the SDK's seams: a manual clock with timers, a recording
 * transport with scripted answers, and a whole fake browser `Env`.
 */
import type { PageSnapshot } from '../context.js';
import type { Timers } from '../delivery.js';
import type { Env, LifecycleEvent } from '../env.js';
import { memoryKV, readCookie } from '../store.js';
import type { SendResponse, Transport } from '../transport.js';

/** Time that moves only when told; timers fire in order as it does. */
export interface ManualClock {
  readonly now: () => number;
  readonly timers: Timers;
  /** Moves time forward, firing due timers and letting their promises settle. */
  readonly advance: (ms: number) => Promise<void>;
  readonly pending: () => number;
}

/** Lets pending promise callbacks run. */
export const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export function manualClock(start = Date.parse('2025-03-01T12:00:00Z')): ManualClock {
  let t = start;
  let seq = 0;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    timers: {
      set: (fn, ms) => {
        due.set(++seq, { at: t + ms, fn });
        return seq;
      },
      clear: (h) => void due.delete(h as number),
    },
    advance: async (ms) => {
      const end = t + ms;
      await settle();
      for (;;) {
        const next = [...due.entries()]
          .filter(([, x]) => x.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        t = next[1].at;
        due.delete(next[0]);
        next[1].fn();
        await settle();
      }
      t = end;
      await settle();
    },
    pending: () => due.size,
  };
}

/** A scripted answer: a status, a status with Retry-After, or a network failure. */
export type Answer = number | { status: number; retryAfter: string } | 'network';

export interface SentRequest {
  readonly url: string;
  readonly body: { batch: Record<string, unknown>[]; writeKey: string; sentAt: string };
  readonly bytes: number;
  readonly keepalive: boolean;
  readonly at: number;
}

export interface FakeTransport extends Transport {
  readonly sent: SentRequest[];
  readonly beacons: SentRequest['body'][];
  /** Answers for the next sends, in order; 200 once they run out. */
  answers: Answer[];
  beaconAccepts: boolean;
  /** When set, sends wait for this promise (requests "in flight"). */
  gate: Promise<void> | undefined;
  /** Every messageId sent, by any means, in order. */
  ids(): string[];
}

export function fakeTransport(now: () => number = Date.now): FakeTransport {
  const t: FakeTransport = {
    sent: [],
    beacons: [],
    answers: [],
    beaconAccepts: true,
    gate: undefined,
    async send(url, body, keepalive) {
      t.sent.push({
        url,
        body: JSON.parse(body) as SentRequest['body'],
        bytes: new TextEncoder().encode(body).length,
        keepalive,
        at: now(),
      });
      if (t.gate) await t.gate;
      const a = t.answers.shift() ?? 200;
      if (a === 'network') throw new TypeError('Failed to fetch');
      const status = typeof a === 'number' ? a : a.status;
      const res: SendResponse = {
        status,
        retryAfter: typeof a === 'number' ? null : a.retryAfter,
        text: async () => '{"success":true}',
      };
      return res;
    },
    beacon(_url, body) {
      if (!t.beaconAccepts) return false;
      t.beacons.push(JSON.parse(body) as SentRequest['body']);
      return true;
    },
    ids: () =>
      [...t.sent.map((s) => s.body), ...t.beacons].flatMap((b) =>
        b.batch.map((e) => e['messageId'] as string),
      ),
  };
  return t;
}

/** `document.cookie` semantics, enough for the SDK: set by assignment, Max-Age=0 deletes. */
export function fakeCookieJar(): { cookie: string; readonly raw: string[] } {
  const jar = new Map<string, string>();
  const raw: string[] = [];
  return {
    get cookie() {
      return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    },
    set cookie(line: string) {
      raw.push(line);
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      if (attrs.some((a) => a.trim() === 'Max-Age=0')) jar.delete(name);
      else jar.set(name, pair.slice(eq + 1).trim());
    },
    raw,
  };
}

export interface FakeEnv extends Env {
  readonly clock: ManualClock;
  readonly fake: FakeTransport;
  readonly jar: ReturnType<typeof fakeCookieJar>;
  readonly warnings: unknown[][];
  page: PageSnapshot;
  isOnline: boolean;
  dntOn: boolean;
  fire(event: LifecycleEvent, e?: { persisted?: boolean }): void;
  /** The cookie `name` as the browser holds it. */
  cookieValue(name: string): string | null;
}

/** A whole browser for `createCdp`, with storage that survives "reloads" when passed in. */
export function fakeEnv(
  shared: {
    local?: Env['local'];
    session?: Env['session'];
    jar?: ReturnType<typeof fakeCookieJar>;
  } = {},
): FakeEnv {
  const clock = manualClock();
  const fake = fakeTransport(clock.now);
  const jar = shared.jar ?? fakeCookieJar();
  const listeners = new Map<string, ((e: { persisted?: boolean }) => void)[]>();
  let n = 0;
  const warnings: unknown[][] = [];
  const env: FakeEnv = {
    clock,
    fake,
    jar,
    warnings,
    page: {
      href: 'https://shop.example/',
      pathname: '/',
      search: '',
      title: 'Shop',
      referrer: '',
      userAgent: 'FakeBrowser/1',
      locale: 'en-US',
      timezone: 'UTC',
      screen: { width: 1280, height: 800, density: 2 },
    },
    isOnline: true,
    dntOn: false,
    now: clock.now,
    random: () => 0.5,
    uuid: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    snapshot: () => env.page,
    online: () => env.isOnline,
    dnt: () => env.dntOn,
    https: true,
    local: shared.local ?? memoryKV(),
    session: shared.session ?? memoryKV(),
    cookieDocument: jar,
    transport: fake,
    timers: clock.timers,
    on: (event, fn) => listeners.set(event, [...(listeners.get(event) ?? []), fn]),
    hidden: () => false,
    console: {
      log: () => undefined,
      warn: (...args) => void warnings.push(args),
      error: (...args) => void warnings.push(args),
    },
    fire: (event, e = {}) => {
      for (const fn of listeners.get(event) ?? []) fn(e);
    },
    cookieValue: (name) => readCookie(jar.cookie, name),
  };
  return env;
}
