import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiStream,
  deleteSummary,
  parseIdentifierArgs,
  splitSummary,
  type ApiTarget,
} from './api-client.js';

describe('cdp persons split arguments', () => {
  it.each([
    [['anonymous_id=a-2'], [{ type: 'anonymous_id', value: 'a-2' }]],
    [
      ['email=Ada@Example.com', 'phone=+44 20 7946 0958'],
      [
        { type: 'email', value: 'Ada@Example.com' },
        { type: 'phone', value: '+44 20 7946 0958' },
      ],
    ],
    [['external:crm_id=k=v=1'], [{ type: 'external:crm_id', value: 'k=v=1' }]],
    [['user_id='], [{ type: 'user_id', value: '' }]],
  ])('%j', (args, identifiers) => {
    expect(parseIdentifierArgs(args)).toEqual(identifiers);
  });

  it.each([[[]], [['anonymous_id']], [['=a-2']]])('refuses %j with a usage hint', (args) => {
    expect(() => parseIdentifierArgs(args)).toThrow(/<type>=<value>/);
  });
});

describe('cdp persons summaries', () => {
  it('says what a split moved, in one line', () => {
    expect(
      splitSummary({
        from: 'p-1',
        oneId: 'p-2',
        moved: [{ type: 'anonymous_id', value: 'a-2' }],
        eventsMoved: 3,
      }),
    ).toBe('split p-1: moved 1 identifier(s) (anonymous_id a-2) and 3 event(s) to new person p-2');
  });

  it('says what a delete erased, in one line', () => {
    expect(deleteSummary({ deleted: 'p-1', retiredIds: ['p-1', 'p-0'], eventsDeleted: 7 })).toBe(
      'deleted person p-1: 7 event(s) erased, ids retired: p-1, p-0',
    );
  });
});

describe('apiStream', () => {
  let server: Server;
  let target: ApiTarget;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== 'Bearer t') {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          '{"code":"CDP_ERR_API_UNAUTHORIZED","message":"Send a token","field":"authorization"}',
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write('{"kind":"person"}\n');
      res.end('{"kind":"event"}\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' };
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('copies the body to the output as it comes', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    await apiStream(target, '/v1/persons/p/export', out);
    expect(text).toBe('{"kind":"person"}\n{"kind":"event"}\n');
  });

  it("throws the API's code, message and field on an error status", async () => {
    await expect(
      apiStream({ ...target, token: 'wrong' }, '/v1/persons/p/export', new PassThrough()),
    ).rejects.toThrow('401 CDP_ERR_API_UNAUTHORIZED: Send a token (field: authorization)');
  });
});
