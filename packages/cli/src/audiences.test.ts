import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiTarget } from './api-client.js';
import {
  applyAudience,
  audiencesInFile,
  audiencesTable,
  previewBody,
  runsTable,
  runSummary,
  writeMembers,
} from './audiences.js';

describe('cdp audiences files', () => {
  const definition = { conditions: { tag: { name: 'rfm_group', op: 'eq', value: 'Champions' } } };

  it('preview takes {definition}, a whole audience or a bare definition, and sends {definition}', () => {
    expect(previewBody({ definition }, 'f.json')).toEqual({ definition });
    expect(previewBody({ name: 'a', definition, refresh: 60 }, 'f.json')).toEqual({ definition });
    expect(previewBody(definition, 'f.json')).toEqual({ definition });
    expect(previewBody({ ...definition, description: 'd' }, 'f.json')).toEqual({
      definition: { ...definition, description: 'd' },
    });
  });

  it.each([[[]], [{ name: 'a' }], ['x'], [null]])('preview refuses %j', (parsed) => {
    expect(() => previewBody(parsed, 'f.json')).toThrow(
      'f.json: expected {definition}, {name, definition} or {conditions}',
    );
  });

  it('apply takes one audience or an array of them', () => {
    expect(audiencesInFile({ name: 'a', definition }, 'f.json')).toEqual([
      { name: 'a', definition },
    ]);
    expect(
      audiencesInFile(
        [
          { name: 'a', definition },
          { name: 'b', definition, refresh: 'manual' },
        ],
        'f.json',
      ).map((a) => a.name),
    ).toEqual(['a', 'b']);
  });

  it.each([
    [{ definition }, 'f.json: every audience needs a name'],
    [[{ name: 'a', definition }, { definition }], 'f.json[1]: every audience needs a name'],
    [[{ name: 'a', definition }, 3], 'f.json[1]: an audience is an object {name, definition}'],
    [[], 'f.json: no audience in the file'],
  ])('apply refuses %j', (parsed, message) => {
    expect(() => audiencesInFile(parsed, 'f.json')).toThrow(message);
  });
});

describe('cdp audiences output', () => {
  const run = {
    version: 3,
    status: 'done',
    trigger: 'manual',
    startedAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:04:06.000Z',
    size: 2,
    entered: 1,
    exited: 4,
    durationMs: 812,
    error: '',
    mode: 'incremental',
    candidates: 40,
  };

  it('lists audiences with size, refresh and last run', () => {
    const lines = audiencesTable([
      {
        name: 'shoes',
        definition: { description: 'bought shoes' },
        refreshSeconds: 0,
        version: 7,
        size: 2,
        computedAt: run.finishedAt,
        lastRun: run,
      },
      {
        name: 'new',
        definition: {},
        refreshSeconds: 3600,
        version: 1,
        size: 0,
        computedAt: null,
        lastRun: null,
      },
    ]).split('\n');
    expect(lines[0]?.split(/\s+/)).toEqual([
      'name',
      'size',
      'refresh',
      'version',
      'computedAt',
      'lastRun',
      'description',
    ]);
    expect(lines[2]?.split(/\s{2,}/)).toEqual([
      'shoes',
      '2',
      'manual',
      '7',
      '2026-01-02T03:04:06.000Z',
      'done (version 3)',
      'bought shoes',
    ]);
    expect(lines[3]?.split(/\s{2,}/)).toEqual(['new', '0', '3600s', '1']);
  });

  it('shows runs as a table and a run in one line', () => {
    const lines = runsTable([run, { ...run, version: 2, status: 'failed', error: 'boom' }]).split(
      '\n',
    );
    expect(lines[0]?.split(/\s+/)).toEqual([
      'version',
      'status',
      'trigger',
      'mode',
      'candidates',
      'startedAt',
      'durationMs',
      'size',
      'entered',
      'exited',
      'error',
    ]);
    expect(lines[2]?.split(/\s{2,}/)).toEqual([
      '3',
      'done',
      'manual',
      'incremental',
      '40',
      '2026-01-02T03:04:05.000Z',
      '812',
      '2',
      '1',
      '4',
    ]);
    expect(lines[3]?.split(/\s{2,}/).slice(1, 2)).toEqual(['failed']);
    expect(lines[3]).toMatch(/boom$/);
    expect(runSummary('shoes', run)).toBe(
      'shoes: version 3 done, 2 member(s), 1 entered, 4 exited (812 ms, incremental: 40 re-evaluated)',
    );
    expect(runSummary('shoes', { ...run, mode: 'full', candidates: null })).toBe(
      'shoes: version 3 done, 2 member(s), 1 entered, 4 exited (812 ms, full)',
    );
  });
});

/** A fake audience API: `existing` names answer 409 on create; `members` in pages of `limit`. */
describe('cdp audiences against the API', () => {
  let server: Server;
  let target: ApiTarget;
  let calls: string[];
  const existing = new Set(['old']);
  const members = ['p-1', 'p-2', 'p-3', 'p-4', 'p-5'];
  const body = async (req: IncomingMessage): Promise<Record<string, unknown>> => {
    let text = '';
    for await (const chunk of req) text += (chunk as Buffer).toString();
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const b = await body(req);
        calls.push(`${req.method ?? ''} ${url.pathname}${url.search} ${JSON.stringify(b)}`);
        const send = (status: number, json: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        const def = b['definition'] as { conditions?: { bad?: boolean } } | undefined;
        if (def?.conditions?.bad)
          return send(400, {
            code: 'CDP_ERR_AUDIENCE_INVALID',
            message: 'conditions.and[1].performed.within.days: must be at least 1',
            field: 'conditions.and[1].performed.within.days',
          });
        if (req.method === 'POST' && url.pathname === '/v1/audiences') {
          if (existing.has(b['name'] as string))
            return send(409, { code: 'CDP_ERR_AUDIENCE_EXISTS', message: 'exists' });
          return send(201, { audience: { name: b['name'], version: 1 } });
        }
        if (req.method === 'PUT') return send(200, { audience: { version: 2 } });
        if (url.pathname === '/v1/audiences/many/members') {
          const limit = Number(url.searchParams.get('limit'));
          const after = url.searchParams.get('cursor') ?? '';
          const page = members.filter((m) => m > after).slice(0, limit);
          const last = page[page.length - 1];
          return send(200, {
            members: page.map((personId) => ({ personId, enteredAt: 'x' })),
            nextCursor: page.length === limit && last ? last : null,
            version: 1,
          });
        }
        send(404, { code: 'CDP_ERR_AUDIENCE_NOT_FOUND', message: 'no such audience' });
      })();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, token: 't' };
  });
  beforeEach(() => {
    calls = [];
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });
  const definition = { conditions: { in_audience: 'x' } };

  it('creates a new audience', async () => {
    expect(await applyAudience(target, { name: 'new', definition })).toEqual({
      action: 'created',
      version: 1,
    });
    expect(calls).toEqual([`POST /v1/audiences ${JSON.stringify({ name: 'new', definition })}`]);
  });

  it('replaces one that exists (409 on create), sending its definition and refresh', async () => {
    expect(await applyAudience(target, { name: 'old', definition, refresh: 60 })).toEqual({
      action: 'updated',
      version: 2,
    });
    expect(calls[1]).toBe(`PUT /v1/audiences/old ${JSON.stringify({ definition, refresh: 60 })}`);
  });

  it("names the audience, the API's code, message and field of a bad definition", async () => {
    await expect(
      applyAudience(target, { name: 'new', definition: { conditions: { bad: true } } }),
    ).rejects.toThrow(
      'new: 400 CDP_ERR_AUDIENCE_INVALID: conditions.and[1].performed.within.days: must be at least 1 (field: conditions.and[1].performed.within.days)',
    );
  });

  it('writes every member, page after page', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    expect(await writeMembers(target, 'many', out, 2)).toBe(5);
    expect(text).toBe('p-1\np-2\np-3\np-4\np-5\n');
    expect(calls.map((c) => c.split(' ')[1])).toEqual([
      '/v1/audiences/many/members?limit=2',
      '/v1/audiences/many/members?limit=2&cursor=p-2',
      '/v1/audiences/many/members?limit=2&cursor=p-4',
    ]);
  });

  it("throws the API's answer for an audience that does not exist", async () => {
    await expect(writeMembers(target, 'nope', new PassThrough())).rejects.toThrow(
      '404 CDP_ERR_AUDIENCE_NOT_FOUND: no such audience',
    );
  });
});
