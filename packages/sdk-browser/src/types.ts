/** Free-form event properties (`track`, `page`). */
export type Properties = Record<string, unknown>;

/** Free-form user or group traits (`identify`, `group`). */
export type Traits = Record<string, unknown>;

/** Segment's event types this SDK sends. */
export type EventType = 'track' | 'page' | 'identify' | 'group' | 'alias';

/** `context.page`: where the event happened. */
export interface PageContext {
  url: string;
  path: string;
  title: string;
  referrer: string;
  search: string;
}

/** UTM parameters (`utm_campaign` as `name`) and ad click ids of the landing URL. */
export type Campaign = Record<string, string>;

/** `context` of every event. Keys given in a call's `options.context` are added as they are. */
export interface EventContext {
  library: { name: string; version: string };
  page: PageContext;
  userAgent: string;
  locale?: string;
  timezone?: string;
  screen?: { width: number; height: number; density: number };
  campaign?: Campaign;
  /** Start of the session, ms since the epoch (Amplitude's convention). */
  sessionId: number;
  /** Present, `true`, on the first event of a session only. */
  sessionStart?: true;
  /** Segment's consent shape; present when consent is required or was given. */
  consent?: { categoryPreferences: Record<string, boolean> };
  [key: string]: unknown;
}

/** One event as sent in a batch: Segment's field names, nothing undefined or empty-by-accident. */
export interface CdpEvent {
  type: EventType;
  messageId: string;
  /** When the call was made (ISO 8601, client clock). */
  timestamp: string;
  anonymousId: string;
  userId?: string;
  event?: string;
  name?: string;
  category?: string;
  properties?: Properties;
  traits?: Traits;
  previousId?: string;
  groupId?: string;
  context: EventContext;
  integrations?: Record<string, unknown>;
}

/** Per-call options, the last argument of every call. */
export interface CallOptions {
  /** Merged over the automatic context (top-level keys replace). */
  context?: Record<string, unknown>;
  /** Sent as the event's `integrations`. */
  integrations?: Record<string, unknown>;
  /** Event time; default: when the call was made. */
  timestamp?: Date | string;
}

/** `consent()` input: the granted categories, or Segment's `{category: boolean}` map. */
export type ConsentInput = readonly string[] | Readonly<Record<string, boolean>>;

/** The current user, as `user()` returns it. */
export interface User {
  id: string | null;
  anonymousId: string;
  traits: Traits;
}
