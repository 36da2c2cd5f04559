/**
 * The configs of ad-platform destinations (customer lists): Google's Data
 * Manager API, the Google Ads API (OfflineUserDataJob, the legacy path),
 * Meta custom audiences and TikTok custom audiences. Each names the list it
 * keeps (created on the platform beforehand), its credentials (sealed at
 * rest), and its base URL (the platform's own by default; a local server in
 * tests). A bad config is a 400 naming the field.
 */
import { CdpError } from '@cdp/core';
import { META_SCHEMA, type MetaKey, type TiktokIdType } from '@cdp/destinations';

/** The Meta keys sent when a destination names none (and, with MADID, the upload file's). */
export const META_DEFAULT_SCHEMA: readonly MetaKey[] = [
  'EXTERN_ID',
  'EMAIL',
  'PHONE',
  'FN',
  'LN',
  'CT',
  'ST',
  'ZIP',
  'COUNTRY',
  'GEN',
  'DOBY',
  'DOBM',
  'DOBD',
];

export const AD_PLATFORM_TYPES = ['google_data_manager', 'google_ads', 'meta', 'tiktok'] as const;
export type AdPlatformType = (typeof AD_PLATFORM_TYPES)[number];

export const isAdPlatform = (type: string): type is AdPlatformType =>
  (AD_PLATFORM_TYPES as readonly string[]).includes(type);

/** What every ad-platform destination has. */
export interface AdCommon {
  readonly baseUrl: string;
  /** Members per request. */
  readonly batchSize: number;
  readonly requestsPerMinute: number;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  /** The consent category a person must not have withheld (Segment's `categoryPreferences`). */
  readonly consentCategory: string;
  /** True: only people who granted it are sent (no consent recorded: not sent). */
  readonly requireConsent: boolean;
  /** Days between replaces of the whole list (lists expire; 0: never). */
  readonly refreshDays: number;
}

/** OAuth 2: an access token, or a refresh token exchanged at `tokenUrl`. */
export interface GoogleAuth {
  readonly accessToken?: string | undefined;
  readonly refreshToken?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  readonly tokenUrl: string;
}

export interface GoogleDataManagerConfig extends AdCommon, GoogleAuth {
  readonly accountType: 'GOOGLE_ADS' | 'DISPLAY_VIDEO_ADVERTISER' | 'DISPLAY_VIDEO_PARTNER';
  readonly accountId: string;
  /** The user list's id (the destination's `productDestinationId`). */
  readonly userListId: string;
  readonly loginAccountId?: string | undefined;
}

export interface GoogleAdsConfig extends AdCommon, GoogleAuth {
  readonly customerId: string;
  readonly userListId: string;
  readonly developerToken: string;
  readonly loginCustomerId?: string | undefined;
  readonly apiVersion: string;
  /** Between polls of a running job. */
  readonly pollIntervalMs: number;
}

export interface MetaConfig extends AdCommon {
  readonly audienceId: string;
  readonly accessToken: string;
  readonly apiVersion: string;
  readonly schema: readonly MetaKey[];
  /** A value-based seed: `traits.<name>` or `tags.<name>` sent as LOOKALIKE_VALUE. */
  readonly valueField?: string | undefined;
}

export interface TiktokConfig extends AdCommon {
  readonly advertiserId: string;
  readonly audienceId: string;
  readonly accessToken: string;
  readonly idTypes: readonly TiktokIdType[];
}

export type AdPlatformConfig =
  GoogleDataManagerConfig | GoogleAdsConfig | MetaConfig | TiktokConfig;

/** Smallest list each platform serves ads to (checked before a sync sends anything). */
export const MIN_LIST_SIZE: Record<AdPlatformType, number> = {
  google_data_manager: 100,
  google_ads: 100,
  meta: 100,
  tiktok: 1000,
};

export const AD_SECRET_FIELDS: Record<AdPlatformType, readonly string[]> = {
  google_data_manager: ['accessToken', 'refreshToken', 'clientSecret'],
  google_ads: ['accessToken', 'refreshToken', 'clientSecret', 'developerToken'],
  meta: ['accessToken'],
  tiktok: ['accessToken'],
};

const bad = (field: string, message: string): CdpError =>
  new CdpError('CDP_ERR_DESTINATION_INVALID', {
    field: `config.${field}`,
    message: `config.${message}`,
  });

type Spec =
  | { kind: 'string'; required?: boolean; default?: string; pattern?: RegExp; hint?: string }
  | { kind: 'int'; default: number; min: number; max: number }
  | { kind: 'bool'; default: boolean }
  | { kind: 'enum'; values: readonly string[]; default?: string }
  | { kind: 'url'; default: string }
  | { kind: 'list'; values: readonly string[]; default: readonly string[] };

const COMMON = (batchMax: number, rpm: number): Record<string, Spec> => ({
  batchSize: { kind: 'int', default: batchMax, min: 1, max: batchMax },
  requestsPerMinute: { kind: 'int', default: rpm, min: 1, max: 100_000 },
  timeoutMs: { kind: 'int', default: 30_000, min: 100, max: 300_000 },
  maxAttempts: { kind: 'int', default: 6, min: 1, max: 20 },
  consentCategory: { kind: 'string', default: 'Advertising', pattern: /^[A-Za-z0-9_ .-]{1,64}$/ },
  requireConsent: { kind: 'bool', default: false },
  refreshDays: { kind: 'int', default: 30, min: 0, max: 540 },
});

const GOOGLE_AUTH: Record<string, Spec> = {
  accessToken: { kind: 'string' },
  refreshToken: { kind: 'string' },
  clientId: { kind: 'string' },
  clientSecret: { kind: 'string' },
  tokenUrl: { kind: 'url', default: 'https://oauth2.googleapis.com/token' },
};

const DIGITS = /^\d{1,20}$/;

const SPECS: Record<AdPlatformType, Record<string, Spec>> = {
  google_data_manager: {
    baseUrl: { kind: 'url', default: 'https://datamanager.googleapis.com' },
    accountType: {
      kind: 'enum',
      values: ['GOOGLE_ADS', 'DISPLAY_VIDEO_ADVERTISER', 'DISPLAY_VIDEO_PARTNER'],
      default: 'GOOGLE_ADS',
    },
    accountId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits, no dashes' },
    userListId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits' },
    loginAccountId: { kind: 'string', pattern: DIGITS, hint: 'digits, no dashes' },
    ...GOOGLE_AUTH,
    ...COMMON(10_000, 300),
  },
  google_ads: {
    baseUrl: { kind: 'url', default: 'https://googleads.googleapis.com' },
    apiVersion: { kind: 'string', default: 'v22', pattern: /^v\d{1,3}$/, hint: 'like v22' },
    customerId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits, no dashes' },
    userListId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits' },
    developerToken: { kind: 'string', required: true },
    loginCustomerId: { kind: 'string', pattern: DIGITS, hint: 'digits, no dashes' },
    pollIntervalMs: { kind: 'int', default: 10_000, min: 10, max: 600_000 },
    ...GOOGLE_AUTH,
    ...COMMON(10_000, 600),
  },
  meta: {
    baseUrl: { kind: 'url', default: 'https://graph.facebook.com' },
    apiVersion: { kind: 'string', default: 'v24.0', pattern: /^v\d{1,3}\.\d$/, hint: 'like v24.0' },
    audienceId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits' },
    accessToken: { kind: 'string', required: true },
    schema: {
      kind: 'list',
      values: META_SCHEMA,
      default: META_DEFAULT_SCHEMA,
    },
    valueField: {
      kind: 'string',
      pattern: /^(traits|tags)\.[A-Za-z0-9_.:-]{1,128}$/,
      hint: 'traits.<name> or tags.<name>',
    },
    ...COMMON(10_000, 200),
  },
  tiktok: {
    baseUrl: { kind: 'url', default: 'https://business-api.tiktok.com' },
    advertiserId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits' },
    audienceId: { kind: 'string', required: true, pattern: DIGITS, hint: 'digits' },
    accessToken: { kind: 'string', required: true },
    idTypes: {
      kind: 'list',
      values: ['EMAIL_SHA256', 'PHONE_SHA256', 'IDFA_SHA256', 'GAID_SHA256'],
      default: ['EMAIL_SHA256', 'PHONE_SHA256'],
    },
    ...COMMON(50_000, 60),
  },
};

/** The config of an ad-platform destination, with defaults, or a 400 naming the field. */
export function validateAdConfig(
  type: AdPlatformType,
  c: Record<string, unknown>,
): AdPlatformConfig {
  const spec = SPECS[type];
  for (const k of Object.keys(c))
    if (!(k in spec)) throw bad(k, `${k} is not a setting of a ${type} destination`);
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec)) {
    const v = c[k];
    switch (s.kind) {
      case 'string':
        if (v === undefined) {
          if (s.required) throw bad(k, `${k} is required (a string${s.hint ? `: ${s.hint}` : ''})`);
          if (s.default !== undefined) out[k] = s.default;
          break;
        }
        if (typeof v !== 'string' || v.trim() === '' || (s.pattern && !s.pattern.test(v)))
          throw bad(k, `${k} must be a string${s.hint ? ` (${s.hint})` : ''}`);
        out[k] = v;
        break;
      case 'int':
        if (v === undefined) out[k] = s.default;
        else if (typeof v !== 'number' || !Number.isInteger(v) || v < s.min || v > s.max)
          throw bad(k, `${k} must be an integer from ${s.min} to ${s.max}`);
        else out[k] = v;
        break;
      case 'bool':
        if (v === undefined) out[k] = s.default;
        else if (typeof v !== 'boolean') throw bad(k, `${k} must be true or false`);
        else out[k] = v;
        break;
      case 'enum':
        if (v === undefined && s.default !== undefined) out[k] = s.default;
        else if (typeof v !== 'string' || !s.values.includes(v))
          throw bad(k, `${k} must be one of ${s.values.join(', ')}`);
        else out[k] = v;
        break;
      case 'url': {
        const u = v ?? s.default;
        let parsed: URL | undefined;
        try {
          parsed = typeof u === 'string' ? new URL(u) : undefined;
        } catch {
          parsed = undefined;
        }
        if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
          throw bad(k, `${k} must be an absolute http(s) URL`);
        out[k] = (u as string).replace(/\/+$/, '');
        break;
      }
      case 'list': {
        const l = v ?? s.default;
        if (
          !Array.isArray(l) ||
          l.length === 0 ||
          l.some((x) => typeof x !== 'string' || !s.values.includes(x)) ||
          new Set(l).size !== l.length
        )
          throw bad(k, `${k} must be a list of distinct values from ${s.values.join(', ')}`);
        out[k] = l;
        break;
      }
    }
  }
  if (type === 'google_data_manager' || type === 'google_ads') {
    const hasRefresh = out['refreshToken'] !== undefined;
    if (out['accessToken'] === undefined && !hasRefresh)
      throw bad(
        'accessToken',
        'accessToken or refreshToken (with clientId and clientSecret) is required',
      );
    if (hasRefresh && (out['clientId'] === undefined || out['clientSecret'] === undefined))
      throw bad(
        out['clientId'] === undefined ? 'clientId' : 'clientSecret',
        `${out['clientId'] === undefined ? 'clientId' : 'clientSecret'} is required with refreshToken`,
      );
  }
  return out as unknown as AdPlatformConfig;
}
