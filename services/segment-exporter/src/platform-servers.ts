/**
 * A local stand-in for the ad platforms' list APIs, for the exporter's
 * integration tests (left out of the build). It checks every request
 * against the shape and limits each platform documents and keeps the
 * lists in memory, so a test asserts what the platform would hold:
 *
 * - Google Data Manager API: `POST /v1/audienceMembers:ingest|remove|removeAll`
 *   (at most 10,000 members a request, 10 identifiers a member, SHA-256 hex
 *   emails and phones, hashed names with an unhashed region code and postal
 *   code, `encoding: HEX`, the Customer Match terms accepted on ingest, a
 *   per-minute request limit answered with 429, one request per list at a
 *   time else CONCURRENT_MODIFICATION); `removeAll` with `removeAsOfTime`
 *   drops members added before that time only.
 * - Google's OAuth token endpoint (`POST /token`, refresh_token grant).
 * - Google Ads API: OfflineUserDataJob create, addOperations (partial
 *   failure per operation index, at most 20 identifiers a UserData,
 *   `removeAll` only as a job's first operation), run, and the job's status
 *   through `googleAds:search` (RUNNING once, then SUCCESS: the operations
 *   apply then).
 * - Meta: `POST`/`DELETE /{version}/{audience_id}/users` and
 *   `/usersreplace` (schema keys, rows as long as the schema, at most
 *   10,000 rows, hashed values where Meta wants them hashed, MADID and
 *   EXTERN_ID not, sessions whose batch_seq counts up and end at
 *   last_batch_flag; a replace swaps the list when its session ends).
 * - TikTok: customer file upload (multipart: header row = the id type, one
 *   SHA-256 a line, the file's MD5 as `file_signature`) and
 *   `custom_audience/update` (APPEND, DELETE, REPLACE of uploaded files).
 *
 * A request that breaks a rule is answered 400 and kept in `violations`: a
 * test asserts there are none. `script` forces the next answers.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { META_SCHEMA } from '@cdp/destinations';

const HEX64 = /^[0-9a-f]{64}$/;
const META_KEYS = new Set<string>([...META_SCHEMA, 'LOOKALIKE_VALUE']);
const META_UNHASHED = new Set(['EXTERN_ID', 'MADID', 'LOOKALIKE_VALUE']);
const TIKTOK_TYPES = new Set(['EMAIL_SHA256', 'PHONE_SHA256', 'IDFA_SHA256', 'GAID_SHA256']);

export interface Logged {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: unknown;
  /** Wall clock (ms) when the request came. */
  readonly at: number;
}

export interface Scripted {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

interface AdsJob {
  readonly list: string;
  status: 'PENDING' | 'RUNNING' | 'SUCCESS';
  readonly ops: Record<string, unknown>[];
  polls: number;
}

export interface PlatformServers {
  readonly url: string;
  /** Every request, in order. */
  readonly requests: Logged[];
  /** Rules broken (each was answered 400). */
  readonly violations: string[];
  /** Answers to give before handling, per platform (`google`, `ads`, `meta`, `tiktok`). */
  readonly script: Record<'google' | 'ads' | 'meta' | 'tiktok', Scripted[]>;
  /** The tokens accepted as Bearer (Google, Meta) or access-token (TikTok). */
  readonly tokens: Set<string>;
  /** Google DM lists: user list id -> identifier value -> when added (by `clock`). */
  readonly google: Map<string, Map<string, number>>;
  /** Google DM requests answered 429 for the quota. */
  googleThrottled: number;
  /** Google DM requests allowed per `googleWindowMs` (Google: 300 a minute). */
  googleLimit: number;
  googleWindowMs: number;
  /** How long a Google DM request takes (so overlapping ones show). */
  googleDelayMs: number;
  /** Google Ads lists: user list resource name -> identifier values. */
  readonly ads: Map<string, Set<string>>;
  readonly adsJobs: Map<string, AdsJob>;
  /** Hashed emails Google Ads refuses (a partial failure for their operation). */
  readonly adsRefuse: Set<string>;
  /** Meta audiences: audience id -> row key (EMAIL, else EXTERN_ID) -> LOOKALIKE_VALUE or ''. */
  readonly meta: Map<string, Map<string, string>>;
  /** TikTok audiences: audience id -> ids. */
  readonly tiktok: Map<string, Set<string>>;
  /** The platform's clock for `removeAsOfTime` (the test's sync clock). */
  clock: () => number;
  close(): Promise<void>;
}

class Violation extends Error {}

const must = (ok: unknown, message: string): void => {
  if (!ok) throw new Violation(message);
};

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Data Manager `UserIdentifier`: exactly one of emailAddress, phoneNumber, address. */
function checkGoogleIdentifier(id: unknown, at: string): string[] {
  must(isObj(id), `${at} is not an object`);
  const o = id as Record<string, unknown>;
  const keys = Object.keys(o);
  must(
    keys.length === 1,
    `${at} must have exactly one of emailAddress, phoneNumber, address (has ${keys.join(',')})`,
  );
  if ('emailAddress' in o || 'phoneNumber' in o) {
    const v = o['emailAddress'] ?? o['phoneNumber'];
    must(
      typeof v === 'string' && HEX64.test(v),
      `${at}: ${keys[0]} must be lower-case SHA-256 hex (got ${String(v)})`,
    );
    return [v as string];
  }
  const a = o['address'];
  must(isObj(a), `${at}.address is not an object`);
  const addr = a as Record<string, unknown>;
  for (const k of ['givenName', 'familyName'])
    must(
      typeof addr[k] === 'string' && HEX64.test(addr[k]),
      `${at}.address.${k} must be SHA-256 hex`,
    );
  must(
    typeof addr['regionCode'] === 'string' && /^[A-Z]{2}$/.test(addr['regionCode']),
    `${at}.address.regionCode must be an unhashed ISO alpha-2 code`,
  );
  must(
    typeof addr['postalCode'] === 'string' &&
      !HEX64.test(addr['postalCode']) &&
      addr['postalCode'] !== '',
    `${at}.address.postalCode must be sent unhashed`,
  );
  return [`addr:${addr['givenName'] as string}:${addr['familyName'] as string}`];
}

export async function startPlatformServers(): Promise<PlatformServers> {
  const state: Omit<PlatformServers, 'url' | 'close'> = {
    requests: [],
    violations: [],
    script: { google: [], ads: [], meta: [], tiktok: [] },
    tokens: new Set(),
    google: new Map(),
    googleThrottled: 0,
    googleLimit: 300,
    googleWindowMs: 60_000,
    googleDelayMs: 0,
    ads: new Map(),
    adsJobs: new Map(),
    adsRefuse: new Set(),
    meta: new Map(),
    tiktok: new Map(),
    clock: Date.now,
  };
  const googleCalls: number[] = [];
  const googleBusy = new Map<string, number>();
  const metaSessions = new Map<
    number,
    { seq: number; ended: boolean; replacing?: Map<string, string> }
  >();
  const tiktokFiles = new Map<string, { type: string; ids: string[] }>();
  let jobs = 0;

  const bearer = (req: IncomingMessage): void => {
    const auth = req.headers['authorization'] ?? '';
    must(
      auth.startsWith('Bearer ') && state.tokens.has(auth.slice(7)),
      `authorization must be "Bearer <a valid token>" (got ${auth || 'none'})`,
    );
  };

  async function google(
    req: IncomingMessage,
    path: string,
    body: unknown,
  ): Promise<[number, unknown]> {
    bearer(req);
    must(req.method === 'POST', 'Data Manager takes POST');
    const method = /^\/v1\/audienceMembers:(ingest|remove|removeAll)$/.exec(path)?.[1];
    must(method, `unknown Data Manager method ${path}`);
    must(isObj(body), 'the body must be a JSON object');
    const b = body as Record<string, unknown>;
    const ds = b['destinations'];
    must(Array.isArray(ds) && ds.length === 1, 'destinations must name one destination');
    const d = (ds as unknown[])[0] as Record<string, unknown>;
    const op = d['operatingAccount'] as Record<string, unknown> | undefined;
    must(
      isObj(op) &&
        ['GOOGLE_ADS', 'DISPLAY_VIDEO_ADVERTISER', 'DISPLAY_VIDEO_PARTNER'].includes(
          op['accountType'] as string,
        ),
      'destinations[0].operatingAccount.accountType is missing or unknown',
    );
    must(
      /^\d+$/.test(String(op?.['accountId'])),
      'destinations[0].operatingAccount.accountId must be digits',
    );
    const listId = d['productDestinationId'];
    must(
      typeof listId === 'string' && /^\d+$/.test(listId),
      'destinations[0].productDestinationId must be the user list id',
    );
    // The per-minute quota (Google: 300 requests a minute, then 429).
    const now = Date.now();
    while (googleCalls.length > 0 && (googleCalls[0] as number) <= now - state.googleWindowMs)
      googleCalls.shift();
    if (googleCalls.length >= state.googleLimit) {
      state.googleThrottled++;
      return [
        429,
        { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded' } },
      ];
    }
    googleCalls.push(now);
    const list = state.google.get(listId as string) ?? new Map<string, number>();
    state.google.set(listId as string, list);
    if ((googleBusy.get(listId as string) ?? 0) > 0) {
      state.violations.push(`two requests to user list ${String(listId)} at once`);
      return [409, { error: { code: 409, status: 'ABORTED', message: 'CONCURRENT_MODIFICATION' } }];
    }
    googleBusy.set(listId as string, 1);
    try {
      if (state.googleDelayMs > 0) await new Promise((r) => setTimeout(r, state.googleDelayMs));
      if (method === 'removeAll') {
        const t = Date.parse(String(b['removeAsOfTime']));
        must(Number.isFinite(t), 'removeAsOfTime must be a timestamp');
        for (const [k, added] of list) if (added < t) list.delete(k);
        return [200, { requestId: randomUUID() }];
      }
      must(b['encoding'] === 'HEX', 'encoding must be HEX for hex-encoded hashes');
      if (method === 'ingest')
        must(
          (b['termsOfService'] as Record<string, unknown> | undefined)?.[
            'customerMatchTermsOfServiceStatus'
          ] === 'ACCEPTED',
          'termsOfService.customerMatchTermsOfServiceStatus must be ACCEPTED',
        );
      const members = b['audienceMembers'];
      must(
        Array.isArray(members) && members.length >= 1,
        'audienceMembers must be a non-empty list',
      );
      must(
        (members as unknown[]).length <= 10_000,
        `at most 10,000 audienceMembers a request (got ${(members as unknown[]).length})`,
      );
      const keys = (members as unknown[]).map((m, i) => {
        const ids = (m as { userData?: { userIdentifiers?: unknown } })?.userData?.userIdentifiers;
        must(
          Array.isArray(ids) && ids.length >= 1,
          `audienceMembers[${i}].userData.userIdentifiers must be a non-empty list`,
        );
        must((ids as unknown[]).length <= 10, `audienceMembers[${i}] has more than 10 identifiers`);
        return (ids as unknown[]).flatMap((id, j) =>
          checkGoogleIdentifier(id, `audienceMembers[${i}].userData.userIdentifiers[${j}]`),
        );
      });
      const at = state.clock();
      for (const ks of keys)
        for (const k of ks)
          if (method === 'ingest') list.set(k, at);
          else list.delete(k);
      return [200, { requestId: randomUUID() }];
    } finally {
      googleBusy.set(listId as string, 0);
    }
  }

  function adsIdentifiers(ud: unknown, at: string): string[] {
    const ids = (ud as { userIdentifiers?: unknown })?.userIdentifiers;
    must(
      Array.isArray(ids) && ids.length >= 1 && ids.length <= 20,
      `${at}.userIdentifiers must hold 1 to 20 identifiers (one person)`,
    );
    return (ids as unknown[]).map((id, j) => {
      const o = id as Record<string, unknown>;
      must(
        isObj(o) && Object.keys(o).length === 1,
        `${at}.userIdentifiers[${j}] must set one identifier`,
      );
      const v = o['hashedEmail'] ?? o['hashedPhoneNumber'];
      if (v !== undefined) {
        must(
          typeof v === 'string' && HEX64.test(v),
          `${at}.userIdentifiers[${j}] must be SHA-256 hex`,
        );
        return v as string;
      }
      const a = o['addressInfo'] as Record<string, unknown> | undefined;
      must(
        isObj(a) &&
          HEX64.test(String(a['hashedFirstName'])) &&
          HEX64.test(String(a['hashedLastName'])) &&
          /^[A-Z]{2}$/.test(String(a['countryCode'])) &&
          !HEX64.test(String(a['postalCode'])),
        `${at}.userIdentifiers[${j}].addressInfo: hashed names, unhashed countryCode and postalCode`,
      );
      return `addr:${String(a?.['hashedFirstName'])}:${String(a?.['hashedLastName'])}`;
    });
  }

  function ads(req: IncomingMessage, path: string, body: unknown): [number, unknown] {
    bearer(req);
    must(
      typeof req.headers['developer-token'] === 'string',
      'the developer-token header is required',
    );
    const b = isObj(body) ? body : {};
    let m = /^\/v\d+\/customers\/(\d+)\/offlineUserDataJobs:create$/.exec(path);
    if (m) {
      const job = b['job'] as Record<string, unknown> | undefined;
      must(
        job?.['type'] === 'CUSTOMER_MATCH_USER_LIST',
        'job.type must be CUSTOMER_MATCH_USER_LIST',
      );
      const list = (
        job?.['customerMatchUserListMetadata'] as Record<string, unknown> | undefined
      )?.['userList'];
      must(
        typeof list === 'string' && list.startsWith(`customers/${m[1]}/userLists/`),
        'job.customerMatchUserListMetadata.userList must be the list resource name',
      );
      const name = `customers/${m[1]}/offlineUserDataJobs/${++jobs}`;
      state.adsJobs.set(name, { list: list as string, status: 'PENDING', ops: [], polls: 0 });
      return [200, { resourceName: name }];
    }
    m = /^\/v\d+\/(customers\/\d+\/offlineUserDataJobs\/\d+):(addOperations|run)$/.exec(path);
    if (m) {
      const job = state.adsJobs.get(m[1] as string);
      must(job, `no job ${m[1]}`);
      const j = job as AdsJob;
      must(j.status === 'PENDING', `job ${m[1]} is ${j.status}: no more operations or runs`);
      if (m[2] === 'run') {
        j.status = 'RUNNING';
        return [200, {}];
      }
      const ops = b['operations'];
      must(
        Array.isArray(ops) && ops.length >= 1 && ops.length <= 100_000,
        'operations must hold 1 to 100,000 operations',
      );
      const errors: unknown[] = [];
      (ops as unknown[]).forEach((op, i) => {
        const o = op as Record<string, unknown>;
        const kinds = Object.keys(o).filter((k) => ['create', 'remove', 'removeAll'].includes(k));
        must(kinds.length === 1, `operations[${i}] must be one of create, remove, removeAll`);
        if (kinds[0] === 'removeAll') {
          must(j.ops.length === 0 && i === 0, 'removeAll must be the first operation of a job');
          j.ops.push(o);
          return;
        }
        const ids = adsIdentifiers(o[kinds[0] as string], `operations[${i}].${kinds[0] as string}`);
        if (ids.some((x) => state.adsRefuse.has(x))) {
          must(
            b['enablePartialFailure'] === true,
            'a refused operation without enablePartialFailure fails the request',
          );
          errors.push({
            errorCode: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' },
            message: 'The SHA256 encoded value is malformed.',
            location: {
              fieldPathElements: [{ fieldName: 'operations', index: i }, { fieldName: kinds[0] }],
            },
          });
          return;
        }
        j.ops.push(o);
      });
      return [
        200,
        errors.length === 0
          ? {}
          : { partialFailureError: { code: 3, message: 'partial failure', details: [{ errors }] } },
      ];
    }
    m = /^\/v\d+\/customers\/\d+\/googleAds:search$/.exec(path);
    if (m) {
      const name = /resource_name = '([^']+)'/.exec(String(b['query']))?.[1];
      const j = name ? state.adsJobs.get(name) : undefined;
      must(j, 'the search names no job');
      const job = j as AdsJob;
      if (job.status === 'RUNNING' && ++job.polls >= 2) {
        job.status = 'SUCCESS';
        const list = state.ads.get(job.list) ?? new Set<string>();
        state.ads.set(job.list, list);
        for (const o of job.ops) {
          if (o['removeAll']) list.clear();
          else if (o['create']) for (const x of adsIdentifiers(o['create'], 'create')) list.add(x);
          else for (const x of adsIdentifiers(o['remove'], 'remove')) list.delete(x);
        }
      }
      return [
        200,
        { results: [{ offlineUserDataJob: { resourceName: name, status: job.status } }] },
      ];
    }
    throw new Violation(`unknown Google Ads path ${path}`);
  }

  function meta(req: IncomingMessage, path: string, body: unknown): [number, unknown] {
    bearer(req);
    const m = /^\/v\d+\.\d\/(\d+)\/(users|usersreplace)$/.exec(path);
    must(m, `unknown Meta path ${path}`);
    const [, audienceId, edge] = m as RegExpExecArray;
    must(
      (edge === 'users' && (req.method === 'POST' || req.method === 'DELETE')) ||
        (edge === 'usersreplace' && req.method === 'POST'),
      `${req.method ?? ''} /${edge ?? ''} is not an operation`,
    );
    const b = isObj(body) ? body : {};
    const payload = b['payload'] as Record<string, unknown> | undefined;
    const schema = payload?.['schema'];
    must(Array.isArray(schema) && schema.length > 0, 'payload.schema must be a list of keys');
    const keys = schema as string[];
    must(
      keys.every((k) => META_KEYS.has(k)) && new Set(keys).size === keys.length,
      `payload.schema has unknown or repeated keys: ${keys.join(',')}`,
    );
    const data = payload?.['data'];
    must(
      Array.isArray(data) && data.length >= 1 && data.length <= 10_000,
      'payload.data must hold 1 to 10,000 rows',
    );
    for (const [i, row] of (data as unknown[]).entries()) {
      must(
        Array.isArray(row) && row.length === keys.length,
        `payload.data[${i}] must have one value per schema key`,
      );
      (row as unknown[]).forEach((v, j) => {
        const k = keys[j] as string;
        must(typeof v === 'string', `payload.data[${i}][${j}] must be a string`);
        if (v === '') return;
        if (k === 'LOOKALIKE_VALUE')
          must(
            Number.isFinite(Number(v)) && Number(v) >= 0,
            `LOOKALIKE_VALUE must be a number >= 0`,
          );
        else if (META_UNHASHED.has(k)) must(!HEX64.test(v as string), `${k} is sent unhashed`);
        else
          must(
            HEX64.test(v as string),
            `payload.data[${i}] ${k} must be SHA-256 hex (got ${String(v)})`,
          );
      });
    }
    const s = b['session'] as Record<string, unknown> | undefined;
    must(
      isObj(s) &&
        Number.isInteger(s['session_id']) &&
        Number.isInteger(s['batch_seq']) &&
        typeof s['last_batch_flag'] === 'boolean' &&
        Number.isInteger(s['estimated_num_total']),
      'session must have session_id, batch_seq, last_batch_flag, estimated_num_total',
    );
    const id = (s as Record<string, number>)['session_id'] as number;
    const seq = (s as Record<string, number>)['batch_seq'] as number;
    const session = metaSessions.get(id) ?? { seq: 0, ended: false };
    must(!session.ended, `session ${id} already ended (last_batch_flag)`);
    // Counts up (a batch refused on the way may leave a gap).
    must(seq > session.seq, `session ${id}: batch_seq ${seq} after ${session.seq}`);
    session.seq = seq;
    metaSessions.set(id, session);
    const list = state.meta.get(audienceId as string) ?? new Map<string, string>();
    state.meta.set(audienceId as string, list);
    const at = keys.indexOf('EMAIL') >= 0 ? keys.indexOf('EMAIL') : keys.indexOf('EXTERN_ID');
    const valueAt = keys.indexOf('LOOKALIKE_VALUE');
    const into = edge === 'usersreplace' ? (session.replacing ??= new Map()) : list;
    for (const row of data as string[][]) {
      const k = row[at] ?? '';
      if (k === '') continue;
      if (req.method === 'DELETE') into.delete(k);
      else into.set(k, valueAt >= 0 ? (row[valueAt] ?? '') : '');
    }
    if (s?.['last_batch_flag'] === true) {
      session.ended = true;
      if (session.replacing) {
        list.clear();
        for (const [k, v] of session.replacing) list.set(k, v);
      }
    }
    return [
      200,
      {
        audience_id: audienceId,
        session_id: id,
        num_received: (data as unknown[]).length,
        num_invalid_entries: 0,
        invalid_entry_samples: {},
      },
    ];
  }

  async function tiktok(
    req: IncomingMessage,
    path: string,
    raw: Buffer,
  ): Promise<[number, unknown]> {
    must(
      state.tokens.has(String(req.headers['access-token'])),
      'the access-token header must be a valid token',
    );
    const ok = (data: unknown): [number, unknown] => [
      200,
      { code: 0, message: 'OK', request_id: randomUUID(), data },
    ];
    if (path === '/open_api/v1.3/dmp/custom_audience/file/upload/') {
      const form = await new Request('http://x/', {
        method: 'POST',
        headers: { 'content-type': String(req.headers['content-type']) },
        body: raw,
      }).formData();
      must(
        /^\d+$/.test((form.get('advertiser_id') as string | null) ?? ''),
        'advertiser_id is required',
      );
      const type = (form.get('calculate_type') as string | null) ?? '';
      must(TIKTOK_TYPES.has(type), `calculate_type ${type} is not an id type`);
      const file = form.get('file');
      must(file instanceof Blob, 'file must be a file');
      const text = await (file as Blob).text();
      must(
        createHash('md5').update(text).digest('hex') === form.get('file_signature'),
        'file_signature must be the MD5 of the file',
      );
      const lines = text.split('\n').filter((l) => l !== '');
      must(lines[0] === type, `the file's header row must be ${type}`);
      const ids = lines.slice(1);
      must(
        ids.length > 0 && ids.every((l) => HEX64.test(l)),
        'each line after the header must be one SHA-256 hex id',
      );
      const filePath = `fp-${randomUUID()}`;
      tiktokFiles.set(filePath, { type, ids });
      return ok({ file_path: filePath });
    }
    if (path === '/open_api/v1.3/dmp/custom_audience/update/') {
      const b = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      must(
        /^\d+$/.test(String(b['advertiser_id'])) && /^\d+$/.test(String(b['custom_audience_id'])),
        'advertiser_id and custom_audience_id are required',
      );
      const action = String(b['action']);
      must(
        ['APPEND', 'DELETE', 'REPLACE'].includes(action),
        `action ${action} is not APPEND, DELETE or REPLACE`,
      );
      const paths = b['file_paths'];
      must(
        Array.isArray(paths) &&
          paths.length > 0 &&
          paths.every((p) => tiktokFiles.has(p as string)),
        'file_paths must name uploaded files',
      );
      const id = String(b['custom_audience_id']);
      const list = state.tiktok.get(id) ?? new Set<string>();
      state.tiktok.set(id, list);
      const ids = (paths as string[]).flatMap((p) => tiktokFiles.get(p)?.ids ?? []);
      if (action === 'REPLACE') list.clear();
      for (const x of ids)
        if (action === 'DELETE') list.delete(x);
        else list.add(x);
      return ok({});
    }
    throw new Violation(`unknown TikTok path ${path}`);
  }

  const platformOf = (path: string): keyof PlatformServers['script'] | 'oauth' | undefined =>
    path === '/token'
      ? 'oauth'
      : path.startsWith('/v1/audienceMembers')
        ? 'google'
        : /^\/v\d+\/customers\//.test(path)
          ? 'ads'
          : /^\/v\d+\.\d\//.test(path)
            ? 'meta'
            : path.startsWith('/open_api/')
              ? 'tiktok'
              : undefined;

  const handle = async (req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const platform = platformOf(path);
    const isJson = String(req.headers['content-type']).startsWith('application/json');
    let body: unknown = raw.toString('utf8');
    if (isJson)
      try {
        body = JSON.parse(body as string);
      } catch {
        body = undefined;
      }
    state.requests.push({
      method: req.method ?? '',
      path,
      headers: req.headers,
      body,
      at: Date.now(),
    });
    const send = (status: number, out: unknown, headers: Record<string, string> = {}): void => {
      res
        .writeHead(status, { 'content-type': 'application/json', ...headers })
        .end(JSON.stringify(out));
    };
    try {
      must(platform, `no platform serves ${path}`);
      if (platform === 'oauth') {
        const f = new URLSearchParams(raw.toString('utf8'));
        must(
          f.get('grant_type') === 'refresh_token' &&
            f.get('refresh_token') &&
            f.get('client_id') &&
            f.get('client_secret'),
          'a refresh_token grant needs refresh_token, client_id, client_secret',
        );
        const token = `ya29.${randomUUID()}`;
        state.tokens.add(token);
        return send(200, { access_token: token, expires_in: 3599, token_type: 'Bearer' });
      }
      const next = state.script[platform as keyof PlatformServers['script']].shift();
      if (next)
        return send(next.status, next.body ?? { error: `scripted ${next.status}` }, next.headers);
      const [status, out] =
        platform === 'google'
          ? await google(req, path, body)
          : platform === 'ads'
            ? ads(req, path, body)
            : platform === 'meta'
              ? meta(req, path, body)
              : await tiktok(req, path, raw);
      send(status, out);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof Violation) state.violations.push(`${req.method ?? ''} ${path}: ${message}`);
      else state.violations.push(`${req.method ?? ''} ${path}: the server failed: ${message}`);
      send(400, { error: { code: 100, message, is_transient: false } });
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
