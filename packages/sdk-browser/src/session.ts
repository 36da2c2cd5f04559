import type { Campaign } from './types.js';

/** A session as stored: shared by the tabs of a site through localStorage. */
export interface SessionState {
  /** Start of the session, ms since the epoch: the session id. */
  readonly id: number;
  /** Time of the last event, ms since the epoch. */
  readonly last: number;
  /** The campaign the session landed with, kept for its later events. */
  readonly campaign?: Campaign;
}

/**
 * Records activity at `now`: continues `prev` when its last event is less than
 * `timeoutMs` ago, else starts a new session with id `now` (never equal to the
 * previous id).
 */
export function touchSession(
  prev: SessionState | undefined,
  now: number,
  timeoutMs: number,
): { state: SessionState; started: boolean } {
  if (prev && now - prev.last < timeoutMs) return { state: { ...prev, last: now }, started: false };
  const id = prev && now <= prev.id ? prev.id + 1 : now;
  return { state: { id, last: now }, started: true };
}

/** A stored session, or `undefined` when missing or not one. */
export function parseSession(json: string | null): SessionState | undefined {
  try {
    const v = JSON.parse(json ?? '') as Partial<SessionState> | null;
    if (v && typeof v.id === 'number' && typeof v.last === 'number') {
      const c = v.campaign;
      return {
        id: v.id,
        last: v.last,
        ...(c && typeof c === 'object' && !Array.isArray(c) ? { campaign: c } : {}),
      };
    }
  } catch {
    // Unreadable: a new session starts.
  }
  return undefined;
}
