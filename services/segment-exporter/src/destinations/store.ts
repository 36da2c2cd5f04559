/**
 * Destinations and their connections to audiences, in the warehouse
 * (versioned rows, latest wins). Secrets are sealed before they are written
 * and shown masked; a PUT that sends a secret back masked (or leaves it out)
 * keeps the stored one.
 */
import { randomUUID } from 'node:crypto';
import { CdpError } from '@cdp/core';
import { TABLES, type Warehouse, clickHouseTimeIso } from '@cdp/warehouse';
import { isSealed, mask, type SecretBox } from './secrets.js';
import {
  SECRET_FIELDS,
  validateConfig,
  type DestinationConfig,
  type DestinationType,
} from './types.js';

const T = TABLES;

/** A destination with its config in clear (for senders only: never answered). */
export interface Destination {
  readonly id: string;
  readonly name: string;
  readonly type: DestinationType;
  readonly config: DestinationConfig;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A destination as the API shows it: secrets masked. */
export interface DestinationView extends Omit<Destination, 'config'> {
  readonly config: Record<string, unknown>;
}

interface Row {
  id: string;
  name: string;
  type: DestinationType;
  config: string;
  created_at: string;
  updated_at: string;
  version: string;
}

const notFound = (id: string): CdpError =>
  new CdpError('CDP_ERR_DESTINATION_NOT_FOUND', { message: `No destination ${id}` });

export interface DestinationStore {
  list(): Promise<Destination[]>;
  get(id: string): Promise<Destination>;
  create(body: unknown): Promise<Destination>;
  replace(id: string, body: unknown): Promise<Destination>;
  remove(id: string): Promise<void>;
  view(d: Destination): DestinationView;
  connect(audience: string, destinationId: string): Promise<void>;
  disconnect(audience: string, destinationId: string): Promise<void>;
  /** Every audience → destination connection. */
  connections(): Promise<{ audience: string; destinationId: string }[]>;
}

export function createDestinationStore(deps: {
  warehouse: Warehouse;
  secrets: SecretBox;
  now?: () => number;
}): DestinationStore {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const open = (r: Row): Destination => {
    const raw = JSON.parse(r.config) as Record<string, unknown>;
    for (const f of SECRET_FIELDS[r.type]) if (isSealed(raw[f])) raw[f] = deps.secrets.open(raw[f]);
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      config: raw as unknown as DestinationConfig,
      createdAt: clickHouseTimeIso(r.created_at),
      updatedAt: clickHouseTimeIso(r.updated_at),
    };
  };
  const rows = async (id?: string): Promise<Row[]> =>
    wh.query<Row>(
      `SELECT id, name, type, config, created_at, updated_at, toString(version) AS version
       FROM ${T.destinations} FINAL ${id === undefined ? '' : 'WHERE id = {id:String}'} ORDER BY name, id`,
      id === undefined ? {} : { id },
    );
  const get = async (id: string): Promise<Destination> => {
    const [r] = await rows(id);
    if (!r) throw notFound(id);
    return open(r);
  };
  const parse = (
    body: unknown,
    previous?: Destination,
  ): Omit<Destination, 'id' | 'createdAt' | 'updatedAt'> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new CdpError('CDP_ERR_DESTINATION_INVALID', {
        field: 'body',
        message: 'The body must be an object',
      });
    const b = body as Record<string, unknown>;
    const name = b['name'] ?? previous?.name;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 200)
      throw new CdpError('CDP_ERR_DESTINATION_INVALID', {
        field: 'name',
        message: 'name is required (up to 200 characters)',
      });
    const type = b['type'] ?? previous?.type;
    const config = { ...((b['config'] as Record<string, unknown> | undefined) ?? {}) };
    if (previous && previous.type === type)
      for (const f of SECRET_FIELDS[previous.type]) {
        const sent = config[f];
        if (sent === undefined || (typeof sent === 'string' && sent.startsWith('****')))
          config[f] = (previous.config as unknown as Record<string, unknown>)[f];
      }
    const v = validateConfig(type, config);
    return { name, type: v.type, config: v.config };
  };
  const write = async (d: Destination, version: number, deleted = false): Promise<void> => {
    const sealed: Record<string, unknown> = { ...(d.config as unknown as Record<string, unknown>) };
    for (const f of SECRET_FIELDS[d.type])
      if (typeof sealed[f] === 'string') sealed[f] = deps.secrets.seal(sealed[f]);
    await wh.insert(T.destinations, [
      {
        id: d.id,
        name: d.name,
        type: d.type,
        config: JSON.stringify(sealed),
        created_at: d.createdAt,
        updated_at: d.updatedAt,
        version,
        is_deleted: deleted ? 1 : 0,
      },
    ]);
  };
  const disconnect = async (audience: string, destinationId: string): Promise<void> => {
    await wh.insert(T.audienceDestinations, [
      {
        audience,
        destination_id: destinationId,
        created_at: new Date(now()).toISOString(),
        version: now(),
        is_deleted: 1,
      },
    ]);
  };
  const connections = async (): Promise<{ audience: string; destinationId: string }[]> =>
    (
      await wh.query<{ audience: string; destination_id: string }>(
        `SELECT audience, destination_id FROM ${T.audienceDestinations} FINAL ORDER BY audience, destination_id`,
      )
    ).map((r) => ({ audience: r.audience, destinationId: r.destination_id }));
  return {
    async list() {
      return (await rows()).map(open);
    },
    get,
    async create(body) {
      const at = new Date(now()).toISOString();
      const d: Destination = { id: randomUUID(), ...parse(body), createdAt: at, updatedAt: at };
      await write(d, now());
      return d;
    },
    async replace(id, body) {
      const previous = await get(id);
      const d: Destination = {
        id,
        ...parse(body, previous),
        createdAt: previous.createdAt,
        updatedAt: new Date(now()).toISOString(),
      };
      await write(d, Math.max(now(), Date.parse(previous.updatedAt) + 1));
      return d;
    },
    async remove(id) {
      const d = await get(id);
      for (const c of await connections())
        if (c.destinationId === id) await disconnect(c.audience, id);
      await write(d, Math.max(now(), Date.parse(d.updatedAt) + 1), true);
    },
    view(d) {
      const config: Record<string, unknown> = {
        ...(d.config as unknown as Record<string, unknown>),
      };
      for (const f of SECRET_FIELDS[d.type])
        if (typeof config[f] === 'string') config[f] = mask(config[f]);
      return { ...d, config };
    },
    async connect(audience, destinationId) {
      await get(destinationId);
      await wh.insert(T.audienceDestinations, [
        {
          audience,
          destination_id: destinationId,
          created_at: new Date(now()).toISOString(),
          version: now(),
          is_deleted: 0,
        },
      ]);
    },
    disconnect,
    connections,
  };
}
