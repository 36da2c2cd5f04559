/**
 * Destination types and their configs, validated (a bad one is a 400 naming
 * the field, e.g. `config.url`). Secret fields are sealed at rest and shown
 * masked.
 */
import { isAbsolute } from 'node:path';
import { CdpError } from '@cdp/core';
import {
  AD_PLATFORM_TYPES,
  AD_SECRET_FIELDS,
  isAdPlatform,
  validateAdConfig,
  type AdPlatformConfig,
} from './ad-config.js';

export const DESTINATION_TYPES = ['webhook', 'file', 'kafka', ...AD_PLATFORM_TYPES] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export interface WebhookConfig {
  readonly url: string;
  readonly secret: string;
  /** Changes per POST (default 1,000, at most 10,000). */
  readonly batchSize: number;
  /** Per request (default 10,000 ms). */
  readonly timeoutMs: number;
  /** Tries per batch on 5xx, 429 and timeouts (default 6). */
  readonly maxAttempts: number;
}

export interface FileConfig {
  /** An absolute folder; one sub-folder per audience. */
  readonly dir: string;
  /**
   * `ndjson`, `csv`, or a platform's own upload file for marketers who
   * upload by hand: `google_customer_match` (Google's Customer Match CSV,
   * hashed) or `meta_custom_audience` (Meta's customer list CSV, hashed);
   * those write who entered and who left to separate files.
   */
  readonly format: FileFormat;
  /** Columns (csv) or fields (ndjson): person_id, change, identifier types, `traits.<name>`, `tags.<name>`. */
  readonly columns: readonly string[];
  readonly batchSize: number;
}

export interface KafkaConfig {
  readonly topic: string;
  readonly batchSize: number;
}

export const FILE_FORMATS = [
  'ndjson',
  'csv',
  'google_customer_match',
  'meta_custom_audience',
] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export type DestinationConfig = WebhookConfig | FileConfig | KafkaConfig | AdPlatformConfig;

/** The config fields that are secrets, per type. */
export const SECRET_FIELDS: Record<DestinationType, readonly string[]> = {
  webhook: ['secret'],
  file: [],
  kafka: [],
  ...AD_SECRET_FIELDS,
};

const bad = (field: string, message: string): CdpError =>
  new CdpError('CDP_ERR_DESTINATION_INVALID', { field, message });

const int = (v: unknown, field: string, dflt: number, min: number, max: number): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw bad(field, `${field} must be an integer from ${min} to ${max}`);
  return v;
};

const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v.trim() === '') throw bad(field, `${field} is required (a string)`);
  return v;
};

const DEFAULT_COLUMNS = ['person_id', 'change', 'user_id', 'email', 'phone'];

/** The config of a `type` destination, with defaults, or a 400 naming the field. */
export function validateConfig(
  type: unknown,
  config: unknown,
): {
  type: DestinationType;
  config: DestinationConfig;
} {
  if (typeof type !== 'string' || !(DESTINATION_TYPES as readonly string[]).includes(type))
    throw bad('type', `type must be one of ${DESTINATION_TYPES.join(', ')}`);
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw bad('config', 'config must be an object');
  const c = config as Record<string, unknown>;
  if (isAdPlatform(type)) return { type, config: validateAdConfig(type, c) };
  const known: Record<'webhook' | 'file' | 'kafka', readonly string[]> = {
    webhook: ['url', 'secret', 'batchSize', 'timeoutMs', 'maxAttempts'],
    file: ['dir', 'format', 'columns', 'batchSize'],
    kafka: ['topic', 'batchSize'],
  };
  for (const k of Object.keys(c))
    if (!known[type as 'webhook' | 'file' | 'kafka'].includes(k))
      throw bad(`config.${k}`, `config.${k} is not a setting of a ${type} destination`);
  if (type === 'webhook') {
    const url = str(c['url'], 'config.url');
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw bad('config.url', 'config.url must be an absolute http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw bad('config.url', 'config.url must be an absolute http(s) URL');
    const secret = str(c['secret'], 'config.secret');
    if (secret.length < 16)
      throw bad('config.secret', 'config.secret must be at least 16 characters');
    return {
      type,
      config: {
        url,
        secret,
        batchSize: int(c['batchSize'], 'config.batchSize', 1000, 1, 10_000),
        timeoutMs: int(c['timeoutMs'], 'config.timeoutMs', 10_000, 100, 120_000),
        maxAttempts: int(c['maxAttempts'], 'config.maxAttempts', 6, 1, 20),
      },
    };
  }
  if (type === 'file') {
    const dir = str(c['dir'], 'config.dir');
    if (!isAbsolute(dir)) throw bad('config.dir', 'config.dir must be an absolute path');
    const format = c['format'] ?? 'ndjson';
    if (typeof format !== 'string' || !(FILE_FORMATS as readonly string[]).includes(format))
      throw bad('config.format', `config.format must be one of ${FILE_FORMATS.join(', ')}`);
    const columns = c['columns'] ?? DEFAULT_COLUMNS;
    if (
      !Array.isArray(columns) ||
      columns.length === 0 ||
      columns.some((x) => typeof x !== 'string' || !/^[A-Za-z0-9_.:-]{1,128}$/.test(x))
    )
      throw bad('config.columns', 'config.columns must be a list of column names');
    return {
      type,
      config: {
        dir,
        format: format as FileFormat,
        columns: columns as string[],
        batchSize: int(c['batchSize'], 'config.batchSize', 10_000, 1, 100_000),
      },
    };
  }
  const topic = str(c['topic'], 'config.topic');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic))
    throw bad('config.topic', 'config.topic must be a Kafka topic name');
  return {
    type: 'kafka',
    config: { topic, batchSize: int(c['batchSize'], 'config.batchSize', 1000, 1, 10_000) },
  };
}
