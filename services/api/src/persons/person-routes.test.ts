/**
 * The Person API's HTTP surface as `buildApiApp` wires it: the admin guard and
 * the refusals that happen before the warehouse or the resolver are asked.
 * The warehouse here knows nobody; what persons look like is covered end to
 * end (packages/platform/src/persons.int.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createLogger, topics as topicNames } from '@cdp/core';
import type { Bus, ProduceRecord } from '@cdp/bus';
import type { Warehouse } from '@cdp/warehouse';
import type { SourceRegistry } from '@cdp/sources';
import { buildApiApp } from '../app.js';

const ADMIN = 'cdp_admin_test_token';

describe('Person API routes', () => {
  let app: FastifyInstance;
  const queries: string[] = [];
  const produced: { topic: string; records: readonly ProduceRecord[] }[] = [];

  beforeAll(async () => {
    const warehouse = {
      kind: 'chdb',
      query: async (sql: string) => {
        queries.push(sql);
        return [];
      },
      command: async (sql: string) => {
        queries.push(sql);
      },
    } as unknown as Warehouse;
    const bus = {
      kind: 'embedded',
      produce: async (topic: string, records: readonly ProduceRecord[]) => {
        produced.push({ topic, records });
      },
    } as unknown as Bus;
    const sources = {
      byWriteKey: () => undefined,
      anyAllowsOrigin: () => false,
    } as unknown as SourceRegistry;
    app = await buildApiApp({
      bus,
      warehouse,
      sources,
      topics: topicNames('cdp.'),
      logger: createLogger({ service: 'persons-test', level: 'silent' }),
      adminToken: ADMIN,
    });
  });
  afterAll(async () => {
    await app?.close();
  });

  const admin = { authorization: `Bearer ${ADMIN}` };

  it.each([
    { name: 'no token', headers: {} },
    { name: 'a wrong bearer token', headers: { authorization: 'Bearer wk_live_something' } },
    {
      name: 'a write key as Basic auth',
      headers: { authorization: `Basic ${Buffer.from('wk_x:').toString('base64')}` },
    },
  ])('refuses $name with 401 on every person route', async ({ headers }) => {
    for (const [method, url] of [
      ['GET', '/v1/persons/lookup?type=user_id&value=u1'],
      ['GET', '/v1/persons/p1'],
      ['GET', '/v1/persons/p1/export'],
      ['POST', '/v1/persons/p1/split'],
      ['DELETE', '/v1/persons/p1'],
    ] as const) {
      const r = await app.inject({ method, url, headers });
      expect({ url, method, status: r.statusCode, code: r.json<{ code: string }>().code }).toEqual({
        url,
        method,
        status: 401,
        code: 'CDP_ERR_API_UNAUTHORIZED',
      });
    }
  });

  it.each([
    {
      url: '/v1/persons/lookup?type=cookie&value=x',
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'type',
      says: 'identifier_type_unknown',
    },
    {
      url: '/v1/persons/lookup?value=x',
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'type',
      says: 'required',
    },
    {
      url: '/v1/persons/lookup?type=user_id&value=null',
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'value',
      says: 'junk_placeholder',
    },
    {
      url: `/v1/persons/lookup?type=email&value=${encodeURIComponent('ada at example')}`,
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'value',
      says: 'email_invalid',
    },
    {
      url: '/v1/persons/p1?events=all',
      code: 'CDP_ERR_API_BAD_REQUEST',
      field: 'events',
      says: '0 to 1000',
    },
  ])('answers 400 $code for $url, naming $field, without a query', async (k) => {
    const before = queries.length;
    const r = await app.inject({ method: 'GET', url: k.url, headers: admin });
    expect(r.statusCode).toBe(400);
    const body = r.json<{ code: string; field: string; message: string }>();
    expect(body).toMatchObject({ code: k.code, field: k.field });
    expect(body.message).toContain(k.says);
    expect(queries.length).toBe(before);
  });

  it('never treats an empty id as a person', async () => {
    for (const [method, url] of [
      ['GET', '/v1/persons/'],
      ['DELETE', '/v1/persons/'],
      ['GET', '/v1/persons/%20'],
    ] as const) {
      const r = await app.inject({ method, url, headers: admin });
      expect([400, 404], `${method} ${url}`).toContain(r.statusCode);
    }
    expect(produced).toEqual([]);
  });

  it('answers 404 for a person nobody knows', async () => {
    for (const url of [
      '/v1/persons/nobody',
      '/v1/persons/nobody/export',
      '/v1/persons/lookup?type=anonymous_id&value=a-unknown',
    ]) {
      const r = await app.inject({ method: 'GET', url, headers: admin });
      expect({ url, status: r.statusCode, code: r.json<{ code: string }>().code }).toEqual({
        url,
        status: 404,
        code: 'CDP_ERR_API_NOT_FOUND',
      });
    }
  });

  it.each([
    { body: undefined, code: 'CDP_ERR_API_BAD_REQUEST', field: 'body' },
    { body: '{"identifiers":', code: 'CDP_ERR_INGEST_MALFORMED_JSON', field: 'body' },
    { body: '{"identifiers":[]}', code: 'CDP_ERR_API_BAD_REQUEST', field: 'identifiers' },
    {
      body: '{"identifiers":[{"type":"anonymous_id","value":"00000000-0000-0000-0000-000000000000"}]}',
      code: 'CDP_ERR_IDENTITY_INVALID_IDENTIFIER',
      field: 'identifiers[0].value',
    },
  ])('refuses a split with $code on $field before sending a command', async (k) => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/persons/p1/split',
      headers: {
        ...admin,
        ...(k.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(k.body === undefined ? {} : { payload: k.body }),
    });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: k.code, field: k.field });
    expect(produced).toEqual([]);
  });
});
