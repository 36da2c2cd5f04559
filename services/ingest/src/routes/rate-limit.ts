import rateLimit from '@fastify/rate-limit';
import { CdpError } from '@cdp/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.js';
import { writeKeyOf } from './auth.js';

/**
 * Per-IP and per-write-key request limits on the collection routes
 * (`@fastify/rate-limit`'s counters), checked before a body is read: past a
 * limit the answer is 429 with `Retry-After`, and nothing is dead-lettered.
 * The write key is taken from the Basic header or the query (pixel,
 * redirect); a key only in the body counts under its IP. Also resolves the
 * source from that key early, so that a request refused before its body is
 * parsed (too large) still counts as authenticated.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  ctx: IngestContext,
): Promise<(req: FastifyRequest, reply: FastifyReply) => Promise<void>> {
  const { CDP_RATE_LIMIT_PER_IP: perIp, CDP_RATE_LIMIT_PER_KEY: perKey } = ctx.limits;
  await app.register(rateLimit, { global: false });
  const byIp =
    perIp > 0
      ? app.createRateLimit({ max: perIp, timeWindow: 60_000, keyGenerator: (req) => req.ip })
      : undefined;
  const byKey =
    perKey > 0
      ? app.createRateLimit({
          max: perKey,
          timeWindow: 60_000,
          keyGenerator: (req) => req.cdpSource?.id ?? '',
        })
      : undefined;

  const refuse = (limit: 'ip' | 'key', seconds: number, reply: FastifyReply): never => {
    ctx.metrics.rateLimited.inc({ limit });
    void reply.header('retry-after', String(Math.max(1, seconds)));
    throw new CdpError('CDP_ERR_INGEST_RATE_LIMITED', {
      field: limit === 'ip' ? 'ip' : 'writeKey',
      // Retryable: not dead-lettered (a flood must not fill the disk), and
      // the client is told when to come back.
      retryable: true,
      message: `Over ${limit === 'ip' ? perIp : perKey} requests a minute from this ${limit === 'ip' ? 'address' : 'write key'}; retry after Retry-After seconds`,
    });
  };

  return async (req, reply) => {
    const q = req.query as Record<string, unknown> | undefined;
    const fromQuery = typeof q?.['writeKey'] === 'string' ? q['writeKey'] : undefined;
    const key = writeKeyOf(req, undefined) ?? fromQuery;
    const source = key !== undefined ? ctx.deps.sources.byWriteKey(key) : undefined;
    if (source) req.cdpSource = source;
    if (byIp) {
      const r = await byIp(req);
      if (!r.isAllowed && r.isExceeded) refuse('ip', r.ttlInSeconds, reply);
    }
    if (byKey && source) {
      const r = await byKey(req);
      if (!r.isAllowed && r.isExceeded) refuse('key', r.ttlInSeconds, reply);
    }
  };
}
