/**
 * Senders to ad platforms' customer lists. Each builds the platform's own
 * request from the people of a batch (normalised and hashed the platform's
 * way, see @cdp/destinations), one person per record, and skips a person
 * with nothing to match on instead of sending an empty record:
 *
 * - Google Data Manager API: `audienceMembers:ingest` / `:remove` (at most
 *   10,000 members a request, 10 identifiers a member); a mirror uploads
 *   everything, then `audienceMembers:removeAll` with `removeAsOfTime` = the
 *   sync's start, so the list is never empty in between.
 * - Google Ads API (legacy): an OfflineUserDataJob per sync (create, add
 *   operations in chunks with partial failure, run, poll); a mirror starts
 *   the job with `removeAll`.
 * - Meta: `POST` / `DELETE /{audience_id}/users` with a session across
 *   batches; a mirror goes to `/usersreplace`; LOOKALIKE_VALUE for a
 *   value-based seed.
 * - TikTok: customer files (one per id type, header row, one id a line)
 *   uploaded then applied with `custom_audience/update` (APPEND, DELETE or
 *   REPLACE).
 */
import { createHash, randomInt } from 'node:crypto';
import { CdpError } from '@cdp/core';
import {
  googleAdsUserData,
  googleMember,
  metaRow,
  tiktokIds,
  type TiktokIdType,
} from '@cdp/destinations';
import type {
  AdCommon,
  GoogleAdsConfig,
  GoogleAuth,
  GoogleDataManagerConfig,
  MetaConfig,
  TiktokConfig,
} from './ad-config.js';
import { jsonOf, requestWithRetry, type HttpOutcome, type RequestSpec } from './http.js';
import type { BatchResult, Change, Sender, SyncContext } from './senders.js';
import type { Destination } from './store.js';

type Spec = Omit<RequestSpec, 'timeoutMs' | 'maxAttempts' | 'label' | 'perMinute' | 'paceKey'>;

/** A request to the platform, paced and retried per the destination's settings. */
const caller =
  (d: Destination, cfg: AdCommon, ctx: SyncContext) =>
  (spec: Spec): Promise<HttpOutcome> =>
    requestWithRetry(ctx, {
      ...spec,
      timeoutMs: cfg.timeoutMs,
      maxAttempts: cfg.maxAttempts,
      label: d.name,
      perMinute: cfg.requestsPerMinute,
      paceKey: d.id,
    });

const failed = (d: Destination, what: string, out: HttpOutcome): CdpError =>
  new CdpError('CDP_ERR_EXPORT_FAILED', {
    message: `${d.name}: ${what} refused (${out.kind === 'refused' ? out.reason : `HTTP ${out.status}`})`,
  });

/** Google's OAuth 2 access token: the configured one, or one from the refresh token (once a sync). */
function googleToken(
  d: Destination,
  cfg: GoogleAuth & AdCommon,
  ctx: SyncContext,
): () => Promise<string> {
  let token: Promise<string> | undefined;
  return () => {
    if (cfg.accessToken) return Promise.resolve(cfg.accessToken);
    token ??= (async () => {
      const out = await caller(
        d,
        cfg,
        ctx,
      )({
        url: cfg.tokenUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cfg.refreshToken ?? '',
          client_id: cfg.clientId ?? '',
          client_secret: cfg.clientSecret ?? '',
        }).toString(),
      });
      const t = out.kind === 'ok' ? jsonOf(out.body)?.['access_token'] : undefined;
      if (typeof t !== 'string') throw failed(d, 'the OAuth token request', out);
      return t;
    })();
    return token;
  };
}

/** Splits a batch into who entered and who left, with a record builder; people without one are skipped. */
function split<R>(batch: readonly Change[], build: (c: Change) => R | undefined) {
  const entered: { c: Change; r: R }[] = [];
  const exited: { c: Change; r: R }[] = [];
  const skipped: string[] = [];
  for (const c of batch) {
    const r = build(c);
    if (r === undefined) skipped.push(c.personId);
    else (c.change === 'entered' ? entered : exited).push({ c, r });
  }
  return { entered, exited, skipped };
}

const refusedAll = (xs: readonly { c: Change }[], reason: string): BatchResult['refused'] =>
  xs.map(({ c }) => ({ personId: c.personId, change: c.change, reason }));

function googleDataManager(d: Destination, cfg: GoogleDataManagerConfig, ctx: SyncContext): Sender {
  const call = caller(d, cfg, ctx);
  const token = googleToken(d, cfg, ctx);
  const destination = {
    operatingAccount: { accountType: cfg.accountType, accountId: cfg.accountId },
    ...(cfg.loginAccountId
      ? { loginAccount: { accountType: cfg.accountType, accountId: cfg.loginAccountId } }
      : {}),
    productDestinationId: cfg.userListId,
  };
  const post = async (method: string, body: unknown): Promise<HttpOutcome & { bytes: number }> => {
    const text = JSON.stringify(body);
    const out = await call({
      url: `${cfg.baseUrl}/v1/audienceMembers:${method}`,
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: text,
      // Another upload to the list is running: wait and try again.
      classify: (status, b) =>
        status === 409 || (status >= 400 && b.includes('CONCURRENT_MODIFICATION'))
          ? 'retry'
          : undefined,
    });
    return { ...out, bytes: Buffer.byteLength(text) };
  };
  return {
    commitsPerBatch: true,
    supportsMirror: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const { entered, exited, skipped } = split(batch, googleMember);
      const accepted: string[] = [];
      const refused: BatchResult['refused'][number][] = [];
      let bytes = 0;
      for (const [method, xs] of [
        ['ingest', entered],
        ['remove', exited],
      ] as const) {
        if (xs.length === 0) continue;
        const out = await post(method, {
          destinations: [destination],
          audienceMembers: xs.map((x) => x.r),
          encoding: 'HEX',
          ...(method === 'ingest'
            ? { termsOfService: { customerMatchTermsOfServiceStatus: 'ACCEPTED' } }
            : {}),
        });
        bytes += out.bytes;
        if (out.kind === 'ok') accepted.push(...xs.map((x) => x.c.personId));
        else refused.push(...refusedAll(xs, out.reason));
      }
      return { accepted, skipped, refused, bytes };
    },
    async end() {
      if (ctx.mode !== 'mirror') return;
      const out = await post('removeAll', {
        destinations: [destination],
        removeAsOfTime: new Date(ctx.startedAt).toISOString(),
      });
      if (out.kind !== 'ok') throw failed(d, 'audienceMembers:removeAll', out);
    },
    async abort() {},
  };
}

/** Operation indexes a Google Ads partial failure names, with their messages. */
function partialFailures(body: Record<string, unknown> | undefined): Map<number, string> {
  const out = new Map<number, string>();
  const pf = body?.['partialFailureError'] as { details?: { errors?: unknown[] }[] } | undefined;
  for (const detail of pf?.details ?? [])
    for (const e of detail.errors ?? []) {
      const err = e as {
        message?: string;
        location?: { fieldPathElements?: { fieldName?: string; index?: number }[] };
      };
      const op = err.location?.fieldPathElements?.find((f) => f.fieldName === 'operations');
      if (op?.index !== undefined) out.set(op.index, err.message ?? 'refused');
    }
  return out;
}

function googleAds(d: Destination, cfg: GoogleAdsConfig, ctx: SyncContext): Sender {
  const call = caller(d, cfg, ctx);
  const token = googleToken(d, cfg, ctx);
  const api = `${cfg.baseUrl}/${cfg.apiVersion}`;
  const headers = async (): Promise<Record<string, string>> => ({
    authorization: `Bearer ${await token()}`,
    'developer-token': cfg.developerToken,
    'content-type': 'application/json',
    ...(cfg.loginCustomerId ? { 'login-customer-id': cfg.loginCustomerId } : {}),
  });
  const post = async (path: string, body: unknown): Promise<HttpOutcome> =>
    call({
      url: `${api}/${path}`,
      headers: await headers(),
      body: JSON.stringify(body),
      classify: (status, b) =>
        status >= 400 &&
        (b.includes('CONCURRENT_MODIFICATION') || b.includes('RESOURCE_TEMPORARILY_EXHAUSTED'))
          ? 'retry'
          : undefined,
    });
  let job: string | undefined;
  const ensureJob = async (): Promise<string> => {
    if (job) return job;
    const out = await post(`customers/${cfg.customerId}/offlineUserDataJobs:create`, {
      job: {
        type: 'CUSTOMER_MATCH_USER_LIST',
        customerMatchUserListMetadata: {
          userList: `customers/${cfg.customerId}/userLists/${cfg.userListId}`,
        },
      },
    });
    const name = out.kind === 'ok' ? jsonOf(out.body)?.['resourceName'] : undefined;
    if (typeof name !== 'string') throw failed(d, 'offlineUserDataJobs:create', out);
    job = name;
    if (ctx.mode === 'mirror') {
      const r = await post(`${job}:addOperations`, { operations: [{ removeAll: true }] });
      if (r.kind !== 'ok') throw failed(d, 'the removeAll operation', r);
    }
    return job;
  };
  return {
    commitsPerBatch: false,
    supportsMirror: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const { entered, exited, skipped } = split(batch, googleAdsUserData);
      const xs = [...entered, ...exited];
      if (xs.length === 0) return { accepted: [], skipped, refused: [], bytes: 0 };
      const name = await ensureJob();
      const operations = xs.map((x) =>
        x.c.change === 'entered' ? { create: x.r } : { remove: x.r },
      );
      const body = { operations, enablePartialFailure: true };
      const out = await post(`${name}:addOperations`, body);
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (out.kind !== 'ok')
        return { accepted: [], skipped, refused: refusedAll(xs, out.reason), bytes };
      const bad = partialFailures(jsonOf(out.body));
      return {
        accepted: xs.filter((_, i) => !bad.has(i)).map((x) => x.c.personId),
        skipped,
        refused: [...bad].map(([i, reason]) => ({
          personId: (xs[i] as { c: Change }).c.personId,
          change: (xs[i] as { c: Change }).c.change,
          reason,
        })),
        bytes,
      };
    },
    async end() {
      if (!job && ctx.mode === 'mirror') await ensureJob();
      if (!job) return;
      const run = await post(`${job}:run`, {});
      if (run.kind !== 'ok') throw failed(d, 'offlineUserDataJobs:run', run);
      const deadline = Date.now() + 6 * 3600_000;
      const sleep = ctx.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
      for (;;) {
        const out = await post(`customers/${cfg.customerId}/googleAds:search`, {
          query: `SELECT offline_user_data_job.status, offline_user_data_job.failure_reason FROM offline_user_data_job WHERE offline_user_data_job.resource_name = '${job}'`,
        });
        const rows = out.kind === 'ok' ? jsonOf(out.body)?.['results'] : undefined;
        const j = Array.isArray(rows)
          ? (rows[0] as { offlineUserDataJob?: { status?: string; failureReason?: string } })
              ?.offlineUserDataJob
          : undefined;
        if (j?.status === 'SUCCESS') return;
        if (j?.status === 'FAILED')
          throw new CdpError('CDP_ERR_EXPORT_FAILED', {
            message: `${d.name}: job ${job} failed (${j.failureReason ?? 'no reason given'})`,
          });
        if (Date.now() > deadline)
          throw new CdpError('CDP_ERR_EXPORT_FAILED', {
            message: `${d.name}: job ${job} still ${j?.status ?? 'unknown'} after 6 hours`,
            retryable: true,
          });
        await sleep(cfg.pollIntervalMs);
      }
    },
    async abort() {},
  };
}

/** Meta's transient error codes (rate limits, temporary errors): retried. */
const META_TRANSIENT = new Set([1, 2, 4, 17, 32, 341, 613, 80003]);

const numberAt = (c: Change, field: string): number => {
  const v = field.startsWith('tags.') ? c.tags[field.slice(5)] : c.traits[field.slice(7)];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? n : 0;
};

function meta(d: Destination, cfg: MetaConfig, ctx: SyncContext): Sender {
  const call = caller(d, cfg, ctx);
  const schema = cfg.valueField ? [...cfg.schema, 'LOOKALIKE_VALUE'] : [...cfg.schema];
  const sessions = {
    add: { id: randomInt(1, 2 ** 47), seq: 0, sent: 0, total: ctx.totals.entered },
    remove: { id: randomInt(1, 2 ** 47), seq: 0, sent: 0, total: ctx.totals.exited },
  };
  const send = async (
    kind: 'add' | 'remove',
    rows: string[][],
    counted: number,
  ): Promise<HttpOutcome & { bytes: number }> => {
    const s = sessions[kind];
    s.seq += 1;
    s.sent += counted;
    const body = JSON.stringify({
      payload: { schema, data: rows },
      session: {
        session_id: s.id,
        batch_seq: s.seq,
        last_batch_flag: s.sent >= s.total,
        estimated_num_total: s.total,
      },
    });
    const path = kind === 'remove' ? 'users' : ctx.mode === 'mirror' ? 'usersreplace' : 'users';
    const out = await call({
      url: `${cfg.baseUrl}/${cfg.apiVersion}/${cfg.audienceId}/${path}`,
      method: kind === 'remove' ? 'DELETE' : 'POST',
      headers: { authorization: `Bearer ${cfg.accessToken}`, 'content-type': 'application/json' },
      body,
      classify: (status, b) => {
        if (status >= 200 && status < 300) return 'ok';
        const e = jsonOf(b)?.['error'] as { code?: number; is_transient?: boolean } | undefined;
        return e?.is_transient === true || (e?.code !== undefined && META_TRANSIENT.has(e.code))
          ? 'retry'
          : undefined;
      },
    });
    const r = out.kind === 'ok' ? jsonOf(out.body) : undefined;
    if (r && Number(r['num_invalid_entries'] ?? 0) > 0)
      ctx.logger.warn(
        {
          destination: d.id,
          invalid: r['num_invalid_entries'],
          samples: r['invalid_entry_samples'],
        },
        'export_meta_invalid_entries',
      );
    return { ...out, bytes: Buffer.byteLength(body) };
  };
  return {
    commitsPerBatch: true,
    supportsMirror: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const { entered, exited, skipped } = split(batch, (c) =>
        metaRow(c, cfg.schema, cfg.valueField ? numberAt(c, cfg.valueField) : undefined),
      );
      const accepted: string[] = [];
      const refused: BatchResult['refused'][number][] = [];
      let bytes = 0;
      const counted = (change: string): number => batch.filter((c) => c.change === change).length;
      for (const [kind, xs, change] of [
        ['add', entered, 'entered'],
        ['remove', exited, 'exited'],
      ] as const) {
        if (xs.length === 0) {
          sessions[kind].sent += counted(change);
          continue;
        }
        const out = await send(
          kind,
          xs.map((x) => x.r),
          counted(change),
        );
        bytes += out.bytes;
        if (out.kind === 'ok') accepted.push(...xs.map((x) => x.c.personId));
        else refused.push(...refusedAll(xs, out.reason));
      }
      return { accepted, skipped, refused, bytes };
    },
    async end() {},
    async abort() {},
  };
}

/** TikTok's codes worth another try: rate limits and internal errors. */
const TIKTOK_RETRY = (code: number): boolean => code === 40100 || code === 40133 || code >= 50000;

function tiktok(d: Destination, cfg: TiktokConfig, ctx: SyncContext): Sender {
  const call = caller(d, cfg, ctx);
  const lists = {
    add: new Map<TiktokIdType, string[]>(),
    remove: new Map<TiktokIdType, string[]>(),
  };
  const classify = (status: number, b: string): 'ok' | 'retry' | 'refused' | undefined => {
    if (status < 200 || status >= 300) return undefined;
    const code = Number(jsonOf(b)?.['code'] ?? -1);
    return code === 0 ? 'ok' : TIKTOK_RETRY(code) ? 'retry' : 'refused';
  };
  const headers = { 'access-token': cfg.accessToken };
  const upload = async (type: TiktokIdType, ids: string[]): Promise<string> => {
    const file = `${type}\n${ids.join('\n')}\n`;
    const form = new FormData();
    form.set('advertiser_id', cfg.advertiserId);
    form.set('calculate_type', type);
    form.set('file_signature', createHash('md5').update(file).digest('hex'));
    form.set('file', new Blob([file], { type: 'text/csv' }), `${ctx.runId}-${type}.csv`);
    const out = await call({
      url: `${cfg.baseUrl}/open_api/v1.3/dmp/custom_audience/file/upload/`,
      headers,
      body: form,
      classify,
    });
    const path =
      out.kind === 'ok'
        ? (jsonOf(out.body)?.['data'] as { file_path?: unknown })?.file_path
        : undefined;
    if (typeof path !== 'string') throw failed(d, `the ${type} file upload`, out);
    return path;
  };
  return {
    commitsPerBatch: false,
    supportsMirror: true,
    batchSize: cfg.batchSize,
    async send(batch) {
      const skipped: string[] = [];
      const accepted: string[] = [];
      for (const c of batch) {
        const ids = tiktokIds(c);
        const types = cfg.idTypes.filter((t) => ids[t] !== undefined);
        if (types.length === 0) {
          skipped.push(c.personId);
          continue;
        }
        const to = lists[c.change === 'entered' ? 'add' : 'remove'];
        for (const t of types) {
          const l = to.get(t) ?? [];
          l.push(ids[t] as string);
          to.set(t, l);
        }
        accepted.push(c.personId);
      }
      return { accepted, skipped, refused: [], bytes: 0 };
    },
    async end() {
      for (const [kind, action] of [
        ['add', ctx.mode === 'mirror' ? 'REPLACE' : 'APPEND'],
        ['remove', 'DELETE'],
      ] as const) {
        const files: string[] = [];
        for (const [type, ids] of lists[kind])
          if (ids.length > 0) files.push(await upload(type, ids));
        if (files.length === 0) continue;
        const out = await call({
          url: `${cfg.baseUrl}/open_api/v1.3/dmp/custom_audience/update/`,
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            advertiser_id: cfg.advertiserId,
            custom_audience_id: cfg.audienceId,
            action,
            file_paths: files,
          }),
          classify,
        });
        if (out.kind !== 'ok') throw failed(d, `custom_audience/update ${action}`, out);
      }
    },
    async abort() {},
  };
}

export function createAdSender(d: Destination, ctx: SyncContext): Sender {
  switch (d.type) {
    case 'google_data_manager':
      return googleDataManager(d, d.config as GoogleDataManagerConfig, ctx);
    case 'google_ads':
      return googleAds(d, d.config as GoogleAdsConfig, ctx);
    case 'meta':
      return meta(d, d.config as MetaConfig, ctx);
    case 'tiktok':
      return tiktok(d, d.config as TiktokConfig, ctx);
    case 'file':
    case 'kafka':
    case 'webhook':
      throw new CdpError('CDP_ERR_DESTINATION_INVALID', {
        field: 'type',
        message: `${d.type} is not an ad platform`,
      });
  }
}
