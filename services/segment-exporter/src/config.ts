import type { JSONSchemaType } from '@cdp/core';

/** Settings of audiences (in the all-in-one runner and the exporter service). */
export interface AudiencesConfig {
  /** Run audiences on their schedule (in the all-in-one runner). Default true. */
  CDP_AUDIENCES_ENABLED: boolean;
  /** How often the schedule looks for audiences that are due, in ms. Default 5,000. */
  CDP_AUDIENCES_TICK_MS: number;
  /** A full run of each audience at least this often, in seconds (incremental runs between); 0: always full. Default 3,600. */
  CDP_AUDIENCES_FULL_EVERY_S: number;
  /** Key of destination secrets at rest (32 bytes, base64 or hex); empty: a key generated into the data dir. Every process reading destinations must share it. */
  CDP_SECRETS_KEY: string;
  /** Port of the exporter's /healthz, /readyz, /metrics and run endpoint when run alone. Default 8084. */
  CDP_EXPORTER_PORT: number;
}

export const audiencesConfigSchema: JSONSchemaType<AudiencesConfig> = {
  type: 'object',
  properties: {
    CDP_AUDIENCES_ENABLED: { type: 'boolean', default: true },
    CDP_AUDIENCES_TICK_MS: { type: 'integer', default: 5000, minimum: 50, maximum: 3_600_000 },
    CDP_AUDIENCES_FULL_EVERY_S: { type: 'integer', default: 3600, minimum: 0, maximum: 604_800 },
    CDP_SECRETS_KEY: { type: 'string', default: '' },
    CDP_EXPORTER_PORT: { type: 'integer', default: 8084, minimum: 0, maximum: 65535 },
  },
  required: [],
  additionalProperties: false,
} as unknown as JSONSchemaType<AudiencesConfig>;
