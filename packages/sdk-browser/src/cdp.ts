import { parseCampaign } from './campaign.js';
import { categoryPreferences, isGranted } from './consent.js';
import { buildContext, pageContext } from './context.js';
import { createDelivery, type Delivery } from './delivery.js';
import { browserEnv, type Env } from './env.js';
import { buildEvent, isPlainObject, type EventFields } from './event.js';
import { createIdentity, type Identity } from './identity.js';
import { normalizeHost, resolveOptions, type CdpOptions, type ResolvedOptions } from './options.js';
import { claimTabId } from './queue.js';
import { parseSession, touchSession, type SessionState } from './session.js';
import { cookieKV, gatedKV, memoryKV, type GatedKV } from './store.js';
import type {
  CallOptions,
  CdpEvent,
  ConsentInput,
  EventType,
  Properties,
  Traits,
  User,
} from './types.js';

/** The SDK as pages use it: Segment's method names and argument orders. */
export interface Cdp {
  /** Starts the SDK; calls made before are kept and replayed. Throws `CdpConfigError` on bad options. */
  load(writeKey: string, options?: CdpOptions): void;
  page(name?: string, properties?: Properties, options?: CallOptions): void;
  page(category: string, name: string, properties?: Properties, options?: CallOptions): void;
  page(properties: Properties, options?: CallOptions): void;
  track(event: string, properties?: Properties, options?: CallOptions): void;
  identify(userId?: string | null, traits?: Traits, options?: CallOptions): void;
  identify(traits: Traits, options?: CallOptions): void;
  /** `previousId` defaults to the current user id, else the anonymous id. */
  alias(userId: string, previousId?: string, options?: CallOptions): void;
  group(groupId: string, traits?: Traits, options?: CallOptions): void;
  /** Forgets the user id and traits, starts a new anonymous id and session. */
  reset(): void;
  /** The visitor's consent: granted categories, or Segment's `{category: boolean}` map. */
  consent(categories: ConsentInput): void;
  /** Sends what is queued; see `Delivery.flush`. */
  flush(): Promise<void>;
  user(): User;
  /** The anonymous id; with an argument, sets it first. */
  anonymousId(id?: string): string;
  /** The current session id (ms of its start), if a session has started. */
  sessionId(): number | undefined;
  /** Calls `fn` once loaded. */
  ready(fn: () => void): void;
}

/** The SDK plus the replay entry the loader uses. */
export interface CdpCore {
  readonly api: Cdp;
  /** Runs a (queued) call as if made at `at`. */
  call(method: string, args: readonly unknown[], at?: number): unknown;
}

interface Loaded {
  readonly o: ResolvedOptions;
  readonly identity: Identity;
  readonly delivery: Delivery | undefined;
  readonly local: GatedKV;
  readonly opens: readonly GatedKV[];
  readonly inert: boolean;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const obj = <T>(v: unknown): T | undefined => (isPlainObject(v) ? (v as T) : undefined);

/** Builds the SDK on `env` (default: this browser). Nothing is read or stored before `load`. */
export function createCdpCore(env: Env = browserEnv()): CdpCore {
  let s: Loaded | undefined;
  let prefs: Record<string, boolean> | undefined;
  const waiting: Array<() => void> = [];
  const held: CdpEvent[] = [];

  const warn = (msg: string, detail?: unknown): void => env.console.warn(msg, detail ?? '');
  const sessionKey = (o: ResolvedOptions): string => `${o.storagePrefix}session`;
  const granted = (o: ResolvedOptions): boolean =>
    !o.consent.required || isGranted(prefs, o.consent.categories);

  const release = (l: Loaded): void => {
    if (!granted(l.o)) return;
    for (const kv of l.opens) kv.open();
    const consent = prefs && { categoryPreferences: { ...prefs } };
    for (const e of held.splice(0)) {
      if (consent) e.context.consent = consent;
      l.delivery?.add(e);
    }
  };

  function emit(
    type: EventType,
    f: EventFields,
    options: CallOptions | undefined,
    at: number,
    userId?: string,
  ): void {
    const l = s;
    if (!l || l.inert) return;
    const { o } = l;
    const snap = env.snapshot();
    const touched = touchSession(parseSession(l.local.get(sessionKey(o))), at, o.session.timeoutMs);
    // The session keeps the campaign it landed with (a new one starts without);
    // a later URL with campaign parameters replaces it.
    const landing = parseCampaign(snap.search);
    const session: SessionState = landing ? { ...touched.state, campaign: landing } : touched.state;
    l.local.set(sessionKey(o), JSON.stringify(session));
    const user = l.identity.user();
    const event = buildEvent(type, f, {
      messageId: env.uuid(),
      at,
      anonymousId: user.anonymousId,
      userId: userId ?? user.id,
      context: buildContext(snap, {
        sessionId: session.id,
        sessionStart: touched.started,
        campaign: session.campaign,
        consent:
          prefs ?? (o.consent.required ? categoryPreferences([], o.consent.categories) : undefined),
      }),
      options,
    });
    if (granted(o)) l.delivery?.add(event);
    else if (o.consent.beforeConsent === 'hold') {
      held.push(event);
      if (held.length > o.queue.maxEvents) held.shift();
    }
  }

  const load = (writeKey: unknown, options?: unknown): void => {
    if (s) {
      warn('[cdp] load() was called again; ignored');
      return;
    }
    if (typeof writeKey !== 'string' || writeKey === '') {
      throw new TypeError('[cdp] load(writeKey): writeKey must be a non-empty string');
    }
    const o = resolveOptions(options);
    const inert = o.respectDnt && env.dnt();
    if (inert && o.debug)
      env.console.log('[cdp] Do-Not-Track / Global Privacy Control: nothing is sent');
    const open = granted(o);
    // Before consent (and never under DNT) nothing reaches the browser's storage.
    const local = gatedKV(inert ? memoryKV() : env.local, open);
    const session = gatedKV(inert ? memoryKV() : env.session, open);
    const cookies = gatedKV(
      inert
        ? memoryKV()
        : cookieKV(env.cookieDocument, {
            maxAgeSeconds: o.cookie.maxAgeSeconds,
            domain: o.cookie.domain,
            secure: env.https,
          }),
      open,
    );
    const identity = createIdentity({
      cookies,
      local,
      cookieName: o.cookie.name,
      prefix: o.storagePrefix,
      uuid: env.uuid,
    });
    let delivery: Delivery | undefined;
    if (!inert) {
      delivery = createDelivery({
        url: `${normalizeHost(o.host)}/v1/b`,
        writeKey,
        transport: env.transport,
        storage: local,
        tabId: claimTabId(session, local, o.storagePrefix, env.now(), env.uuid),
        options: o,
        now: env.now,
        random: env.random,
        online: env.online,
        timers: env.timers,
        log: o.debug ? (m, d) => env.console.log(`[cdp] ${m}`, d ?? '') : undefined,
        warn,
      });
      const dl = delivery;
      env.on('pagehide', () => dl.hide(true));
      env.on('visibilitychange', () => {
        if (env.hidden()) dl.hide(false);
      });
      env.on('pageshow', (e) => {
        if (e.persisted) dl.resume();
      });
      env.on('online', () => dl.online());
    }
    s = { o, identity, delivery, local, opens: [local, session, cookies], inert };
    for (const fn of waiting.splice(0)) fn();
  };

  const page = (args: readonly unknown[], at: number): void => {
    const strings: (string | undefined)[] = [];
    let i = 0;
    while (i < args.length && i < 2 && (args[i] == null || typeof args[i] === 'string')) {
      strings.push(str(args[i]));
      i++;
    }
    const [category, name] = strings.length === 2 ? strings : [undefined, strings[0]];
    const props = obj<Properties>(args[i]);
    const options = obj<CallOptions>(args[i + 1]);
    emit(
      'page',
      {
        category,
        name,
        properties: {
          ...pageContext(env.snapshot()),
          ...(name ? { name } : {}),
          ...(category ? { category } : {}),
          ...props,
        },
      },
      options,
      at,
    );
  };

  /** Methods that only read: answered at once, also before load. */
  const read = (l: Loaded | undefined, method: string, a: unknown): unknown => {
    switch (method) {
      case 'user':
        return l?.identity.user() ?? { id: null, anonymousId: '', traits: {} };
      case 'anonymousId': {
        const id = str(a);
        if (id) l?.identity.setAnonymousId(id);
        return l?.identity.user().anonymousId ?? '';
      }
      case 'sessionId':
        return l && parseSession(l.local.get(sessionKey(l.o)))?.id;
      case 'flush':
        // Before load: resolves once loaded and flushed.
        return l
          ? (l.delivery?.flush() ?? Promise.resolve())
          : new Promise<void>((resolve) => waiting.push(() => void api.flush().then(resolve)));
      default:
        return undefined;
    }
  };

  const call = (method: string, args: readonly unknown[], at: number = env.now()): unknown => {
    const [a, b, c] = args;
    const l = s;
    switch (method) {
      case 'load':
        return load(a, b);
      case 'ready':
        if (typeof a === 'function') {
          if (l) (a as () => void)();
          else waiting.push(a as () => void);
        }
        return undefined;
      case 'user':
      case 'anonymousId':
      case 'sessionId':
      case 'flush':
        return read(l, method, a);
    }
    if (!l) {
      // Before load: kept with the time of the call, and replayed on load.
      waiting.push(() => void call(method, args, at));
      return undefined;
    }
    switch (method) {
      case 'page':
        return page(args, at);
      case 'track': {
        const event = str(a);
        if (!event) return warn('[cdp] track(event): event must be a non-empty string');
        return emit('track', { event, properties: obj(b) }, obj(c), at);
      }
      case 'identify': {
        const traitsFirst = isPlainObject(a);
        const userId = traitsFirst ? undefined : str(a);
        l.identity.identify(userId || undefined, obj<Traits>(traitsFirst ? a : b));
        return emit('identify', { traits: l.identity.user().traits }, obj(traitsFirst ? b : c), at);
      }
      case 'alias': {
        const to = str(a);
        if (!to) return warn('[cdp] alias(userId): userId must be a non-empty string');
        const u = l.identity.user();
        return emit('alias', { previousId: str(b) || u.id || u.anonymousId }, obj(c), at, to);
      }
      case 'group': {
        const groupId = str(a);
        if (!groupId) return warn('[cdp] group(groupId): groupId must be a non-empty string');
        return emit('group', { groupId, traits: obj(b) }, obj(c), at);
      }
      case 'reset':
        l.identity.reset();
        l.local.remove(sessionKey(l.o));
        return undefined;
      case 'consent':
        if (!Array.isArray(a) && !isPlainObject(a)) {
          return warn(
            '[cdp] consent(categories): pass a list of categories or a {category: boolean} map',
          );
        }
        prefs = categoryPreferences(a as ConsentInput, l.o.consent.categories);
        return release(l);
      default:
        return warn(`[cdp] ${method} is not a method`);
    }
  };

  const api: Cdp = {
    load: (writeKey, options) => void call('load', [writeKey, options]),
    page: (...args: unknown[]) => void call('page', args),
    track: (...args: unknown[]) => void call('track', args),
    identify: (...args: unknown[]) => void call('identify', args),
    alias: (...args: unknown[]) => void call('alias', args),
    group: (...args: unknown[]) => void call('group', args),
    reset: () => void call('reset', []),
    consent: (categories) => void call('consent', [categories]),
    flush: () => call('flush', []) as Promise<void>,
    user: () => call('user', []) as User,
    anonymousId: (id?: string) => call('anonymousId', [id]) as string,
    sessionId: () => call('sessionId', []) as number | undefined,
    ready: (fn) => void call('ready', [fn]),
  };
  return { api, call };
}

/** The SDK on this browser, for bundlers: `const cdp = createCdp(); cdp.load(writeKey, {host})`. */
export function createCdp(env?: Env): Cdp {
  return createCdpCore(env).api;
}
