import type { Campaign, EventContext, PageContext } from './types.js';
import { LIBRARY_NAME, VERSION } from './version.js';

/** What the browser says about the page and device at the time of an event. */
export interface PageSnapshot {
  readonly href: string;
  readonly pathname: string;
  readonly search: string;
  readonly title: string;
  readonly referrer: string;
  readonly userAgent: string;
  readonly locale?: string | undefined;
  readonly timezone?: string | undefined;
  readonly screen?: { width: number; height: number; density: number } | undefined;
}

/** Segment's `context.page`; the URL without its fragment. */
export function pageContext(s: PageSnapshot): PageContext {
  const hash = s.href.indexOf('#');
  return {
    url: hash < 0 ? s.href : s.href.slice(0, hash),
    path: s.pathname,
    title: s.title,
    referrer: s.referrer,
    search: s.search,
  };
}

/** The session and consent facts an event's context carries. */
export interface ContextExtras {
  readonly sessionId: number;
  readonly sessionStart: boolean;
  readonly campaign?: Campaign | undefined;
  readonly consent?: Record<string, boolean> | undefined;
}

/** The automatic context of an event: nothing absent is sent as empty. */
export function buildContext(s: PageSnapshot, x: ContextExtras): EventContext {
  const c: EventContext = {
    library: { name: LIBRARY_NAME, version: VERSION },
    page: pageContext(s),
    userAgent: s.userAgent,
    sessionId: x.sessionId,
  };
  if (s.locale) c.locale = s.locale;
  if (s.timezone) c.timezone = s.timezone;
  if (s.screen) c.screen = { ...s.screen };
  if (x.campaign) c.campaign = { ...x.campaign };
  if (x.sessionStart) c.sessionStart = true;
  if (x.consent) c.consent = { categoryPreferences: { ...x.consent } };
  return c;
}
