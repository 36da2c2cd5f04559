import type { KV } from './store.js';
import type { Traits, User } from './types.js';

/** Where the identity lives: the anonymous id in a cookie, mirrored in localStorage. */
export interface IdentityDeps {
  readonly cookies: KV;
  readonly local: KV;
  readonly cookieName: string;
  readonly prefix: string;
  readonly uuid: () => string;
}

/** The current user, read once and written through on every change. */
export interface Identity {
  user(): User;
  setAnonymousId(id: string): void;
  /**
   * Segment's rule: traits merge with the stored ones when the user id is the
   * same or there was none; a different user id replaces them.
   */
  identify(userId: string | undefined, traits: Traits | undefined): void;
  /** Forgets the user and starts a new anonymous id. */
  reset(): void;
}

function parseTraits(json: string | null): Traits {
  try {
    const v: unknown = JSON.parse(json ?? '');
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Traits;
  } catch {
    // Unreadable traits start empty.
  }
  return {};
}

/** Reads the stored identity (making an anonymous id when there is none). */
export function createIdentity(d: IdentityDeps): Identity {
  const aidKey = `${d.prefix}aid`;
  const uidKey = `${d.prefix}uid`;
  const traitsKey = `${d.prefix}traits`;
  let anonymousId = d.cookies.get(d.cookieName) || d.local.get(aidKey) || d.uuid();
  let userId = d.local.get(uidKey);
  let traits = parseTraits(d.local.get(traitsKey));

  const saveAid = (): void => {
    // Written on every load too, so the cookie's max-age rolls forward.
    d.cookies.set(d.cookieName, anonymousId);
    d.local.set(aidKey, anonymousId);
  };
  const saveUser = (): void => {
    if (userId === null) d.local.remove(uidKey);
    else d.local.set(uidKey, userId);
    if (Object.keys(traits).length === 0) d.local.remove(traitsKey);
    else d.local.set(traitsKey, JSON.stringify(traits));
  };
  saveAid();

  return {
    user: () => ({ id: userId, anonymousId, traits: { ...traits } }),
    setAnonymousId: (id) => {
      anonymousId = id;
      saveAid();
    },
    identify: (id, t) => {
      const same = userId === null || id === undefined || id === userId;
      traits = same ? { ...traits, ...t } : { ...t };
      if (id !== undefined) userId = id;
      saveUser();
    },
    reset: () => {
      anonymousId = d.uuid();
      userId = null;
      traits = {};
      saveAid();
      saveUser();
    },
  };
}
