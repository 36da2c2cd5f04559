import type { JSONSchemaType } from 'ajv';
import { loadConfig } from './config.js';

/**
 * Settings every service shares: where the bus and the warehouse are, the
 * data directory, the topic prefix and logging. With none set, everything
 * runs embedded (in-process journaled bus, chDB) under `CDP_DATA_DIR`.
 */
export interface PlatformConfig {
  /** Data directory for the embedded bus journal, chDB and credentials. Default `./.cdp-data`. */
  CDP_DATA_DIR: string;
  /** Comma-separated Kafka brokers; empty means the embedded bus. */
  KAFKA_BROKERS: string;
  /** Kafka client id. Default `cdp`. */
  KAFKA_CLIENT_ID: string;
  /** ClickHouse HTTP URL; empty means embedded chDB. */
  CLICKHOUSE_URL: string;
  CLICKHOUSE_USER: string;
  CLICKHOUSE_PASSWORD: string;
  /** ClickHouse database. Default `cdp`. */
  CLICKHOUSE_DATABASE: string;
  /** Prefix of every topic name. Default `cdp.`. */
  CDP_TOPIC_PREFIX: string;
  /** Partitions of the event topics when the platform creates them. Default 4. */
  CDP_TOPIC_PARTITIONS: number;
  /** pino level: fatal, error, warn, info, debug, trace, silent. Default `info`. */
  LOG_LEVEL: string;
}

export const platformConfigSchema: JSONSchemaType<PlatformConfig> = {
  type: 'object',
  properties: {
    CDP_DATA_DIR: { type: 'string', default: './.cdp-data' },
    KAFKA_BROKERS: { type: 'string', default: '' },
    KAFKA_CLIENT_ID: { type: 'string', default: 'cdp' },
    CLICKHOUSE_URL: { type: 'string', default: '' },
    CLICKHOUSE_USER: { type: 'string', default: 'default' },
    CLICKHOUSE_PASSWORD: { type: 'string', default: '' },
    CLICKHOUSE_DATABASE: { type: 'string', default: 'cdp', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    CDP_TOPIC_PREFIX: { type: 'string', default: 'cdp.', pattern: '^[A-Za-z0-9._-]*$' },
    CDP_TOPIC_PARTITIONS: { type: 'integer', default: 4, minimum: 1, maximum: 1024 },
    LOG_LEVEL: {
      type: 'string',
      default: 'info',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<PlatformConfig>;

/** Merges property sets of config schemas (platform + a service's own). */
export function mergeConfigSchemas<A, B>(
  a: JSONSchemaType<A>,
  b: JSONSchemaType<B>,
): JSONSchemaType<A & B> {
  const pa = (a as unknown as { properties: object }).properties;
  const pb = (b as unknown as { properties: object }).properties;
  return {
    type: 'object',
    properties: { ...pa, ...pb },
    required: [],
    additionalProperties: false,
  } as unknown as JSONSchemaType<A & B>;
}

/** Loads and freezes the platform settings from an environment. */
export function loadPlatformConfig(
  env: Record<string, string | undefined>,
): Readonly<PlatformConfig> {
  return loadConfig(platformConfigSchema, env, { ownPrefixes: ['CDP_', 'KAFKA_', 'CLICKHOUSE_'] });
}
