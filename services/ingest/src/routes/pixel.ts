import { CdpError, isCdpError } from '@cdp/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.js';
import type { RequestContext } from '../collector.js';
import { redirectAllowed } from '@cdp/sources';

/** A transparent 1x1 GIF. */
export const PIXEL_GIF = Buffer.from(
  'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7',
  'base64',
);

const UTM_TO_CAMPAIGN: Record<string, string> = {
  utm_source: 'source',
  utm_medium: 'medium',
  utm_campaign: 'name',
  utm_term: 'term',
  utm_content: 'content',
  utm_id: 'id',
};
const TOP_LEVEL = [
  'type',
  'event',
  'name',
  'category',
  'anonymousId',
  'userId',
  'messageId',
  'timestamp',
  'groupId',
  'previousId',
];

type Query = Record<string, string | string[] | undefined>;
const first = (v: string | string[] | undefined): string | undefined =>
  Array.isArray(v) ? v[0] : v;

function jsonParam(q: Query, name: string): Record<string, unknown> {
  const raw = first(q[name]);
  if (raw === undefined || raw === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new CdpError('CDP_ERR_INGEST_MALFORMED_JSON', {
      field: name,
      message: `${name} must be a JSON object`,
    });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new CdpError('CDP_ERR_EVENT_INVALID_TYPE', {
      field: name,
      message: `${name} must be a JSON object`,
    });
  return v as Record<string, unknown>;
}

/**
 * Builds a Segment call from pixel/redirect query parameters: top-level
 * fields by name, `p.<name>` properties, `t.<name>` traits, JSON
 * `properties`/`traits`/`context`, and `utm_*` into `context.campaign`.
 */
export function eventFromQuery(
  q: Query,
  defaults: { type: string; event?: string },
): Record<string, unknown> {
  const properties = jsonParam(q, 'properties');
  const traits = jsonParam(q, 'traits');
  const context = jsonParam(q, 'context');
  const campaign: Record<string, unknown> = {
    ...((context['campaign'] as Record<string, unknown> | undefined) ?? {}),
  };
  const event: Record<string, unknown> = {};
  for (const [k, v0] of Object.entries(q)) {
    const v = first(v0);
    if (v === undefined) continue;
    if (k.startsWith('p.')) properties[k.slice(2)] = v;
    else if (k.startsWith('t.')) traits[k.slice(2)] = v;
    else if (UTM_TO_CAMPAIGN[k] !== undefined) campaign[UTM_TO_CAMPAIGN[k]] = v;
    else if (TOP_LEVEL.includes(k)) event[k] = v;
  }
  event['type'] ??= defaults.type;
  if (defaults.event !== undefined && event['type'] === 'track') event['event'] ??= defaults.event;
  if (Object.keys(campaign).length > 0) context['campaign'] = campaign;
  if (Object.keys(properties).length > 0) event['properties'] = properties;
  if (Object.keys(traits).length > 0) event['traits'] = traits;
  if (Object.keys(context).length > 0) event['context'] = context;
  return event;
}

/**
 * `GET /v1/pixel.gif`: records an event from query parameters (email opens,
 * ad impressions) and always answers the GIF, uncached; bad input is
 * dead-lettered. `GET /v1/r?u=<url>`: records a click and redirects, only to
 * hosts on the source's redirect allow-list (400 otherwise: no open redirect).
 */
export function registerPixelRoutes(app: FastifyInstance, ctx: IngestContext): void {
  const record = async (
    req: FastifyRequest,
    event: Record<string, unknown>,
    rc: RequestContext,
  ): Promise<void> => {
    const res = await ctx.collector.accept([{ raw: event }], rc);
    if (res.rejected.length > 0) req.log.debug({ rejected: res.rejected }, 'pixel_event_rejected');
  };

  app.get('/v1/pixel.gif', async (req, reply) => {
    const q = req.query as Query;
    const writeKey = first(q['writeKey']);
    const source = writeKey ? ctx.deps.sources.byWriteKey(writeKey) : undefined;
    const rc = ctx.requestContext(req, source);
    try {
      if (!source)
        throw new CdpError(
          writeKey ? 'CDP_ERR_INGEST_AUTH_INVALID' : 'CDP_ERR_INGEST_AUTH_MISSING',
          { field: 'writeKey' },
        );
      await record(req, eventFromQuery(q, { type: 'track', event: 'Pixel Viewed' }), rc);
    } catch (err) {
      // The pixel always answers the GIF; what could not be recorded is dead-lettered.
      const e = isCdpError(err) ? err : new CdpError('CDP_ERR_INTERNAL', { cause: err });
      if (e.code === 'CDP_ERR_INGEST_BACKPRESSURE' || e.code === 'CDP_ERR_INTERNAL')
        req.log.error({ err, url: req.url }, 'pixel_not_recorded');
      else
        await ctx.collector.deadLetter(
          [{ code: e.code, field: e.field ?? '', reason: e.message, payload: req.url }],
          rc,
        );
    }
    return reply
      .header('content-type', 'image/gif')
      .header('cache-control', 'no-cache, no-store, must-revalidate, private, max-age=0')
      .header('pragma', 'no-cache')
      .header('expires', '0')
      .send(PIXEL_GIF);
  });

  app.get('/v1/r', { config: { collect: true } }, async (req, reply) => {
    const q = req.query as Query;
    const writeKey = first(q['writeKey']);
    if (!writeKey) throw new CdpError('CDP_ERR_INGEST_AUTH_MISSING', { field: 'writeKey' });
    const source = ctx.deps.sources.byWriteKey(writeKey);
    if (!source) throw new CdpError('CDP_ERR_INGEST_AUTH_INVALID', { field: 'writeKey' });
    req.cdpSource = source;
    const u = first(q['u']);
    let target: URL;
    try {
      if (!u) throw new Error('missing');
      target = new URL(u);
    } catch {
      throw new CdpError(u ? 'CDP_ERR_EVENT_INVALID_VALUE' : 'CDP_ERR_EVENT_MISSING_FIELD', {
        field: 'u',
        message: 'u must be an absolute http(s) URL',
      });
    }
    if (!redirectAllowed(source, target)) {
      throw new CdpError('CDP_ERR_INGEST_REDIRECT_NOT_ALLOWED', {
        field: 'u',
        message: `Redirects to ${target.hostname} are not on this source's allow-list`,
      });
    }
    const event = eventFromQuery(q, { type: 'track', event: 'Link Clicked' });
    const props = (event['properties'] as Record<string, unknown> | undefined) ?? {};
    props['url'] ??= target.href;
    event['properties'] = props;
    // Campaign parameters on the destination link count when the click URL has none.
    const context = (event['context'] as Record<string, unknown> | undefined) ?? {};
    if (context['campaign'] === undefined) {
      const campaign: Record<string, string> = {};
      for (const [k, v] of target.searchParams)
        if (UTM_TO_CAMPAIGN[k] !== undefined) campaign[UTM_TO_CAMPAIGN[k]] = v;
      if (Object.keys(campaign).length > 0) context['campaign'] = campaign;
    }
    context['page'] ??= { url: target.href };
    event['context'] = context;
    try {
      await record(req, event, ctx.requestContext(req, source));
    } catch (err) {
      // A full bus must not break a customer's link: the person still gets there.
      req.log.error({ err, url: req.url }, 'click_not_recorded');
    }
    return reply.header('cache-control', 'no-store').redirect(target.href, 302);
  });
}
