import { Readable } from 'node:stream';
import type { IdentityRules } from '@cdp/identity';
import type { FastifyInstance } from 'fastify';
import { jsonBody } from '@cdp/http';
import { ANALYTICS_READ } from '../auth.js';
import type { ApiArea, ApiContext } from '../context.js';
import { NDJSON } from '../persons/export-lines.js';
import { parseEventsLimit } from '../persons/identifier-input.js';
import { createPersonService, type PersonService } from '../persons/person-service.js';
import { createWarehousePersonStore, type PersonStore } from '../persons/person-store.js';

/** Options of {@link registerPersonRoutes}; every one has a default. */
export interface PersonRoutesOptions {
  /** Normalisation rules for lookups and splits; must match the resolver's (default: the package defaults). */
  readonly rules?: IdentityRules;
  /** Default: the warehouse of `ctx.deps`. */
  readonly store?: PersonStore;
  /** How long to wait for the resolver's answer to a split or delete (default 15,000 ms). */
  readonly answerTimeoutMs?: number;
  /** After a delete, erase again this much later (default 30,000 ms; 0: not). */
  readonly eraseAgainAfterMs?: number;
}

type OneIdParams = { Params: { oneId: string }; Querystring: Record<string, string | undefined> };

/**
 * The Person API, behind the admin token: look a person up by identifier,
 * read one (identifiers, latest traits, events, audit trail), split
 * identifiers off, export everything (NDJSON), and erase (GDPR).
 */
export function registerPersonRoutes(
  admin: FastifyInstance,
  ctx: ApiContext,
  options: PersonRoutesOptions = {},
): void {
  const persons: PersonService = createPersonService({
    store: options.store ?? createWarehousePersonStore(ctx.deps.warehouse),
    bus: ctx.deps.bus,
    linksTopic: ctx.deps.topics.identityLinks,
    erasedTopics: [
      ctx.deps.topics.eventsRaw,
      ctx.deps.topics.eventsResolved,
      ctx.deps.topics.eventsInvalid,
      ctx.deps.topics.identityLinks,
    ],
    now: ctx.now,
    logger: ctx.deps.logger,
    rules: options.rules,
    answerTimeoutMs: options.answerTimeoutMs,
    eraseAgainAfterMs: options.eraseAgainAfterMs,
  });
  // Pending second erase passes run before the warehouse closes.
  admin.addHook('onClose', () => persons.close());

  // Reads are open to the analytics token; export, split and erase are the admin's.
  admin.get<{ Querystring: Record<string, string | undefined> }>(
    '/v1/persons/lookup',
    ANALYTICS_READ,
    async (req) =>
      persons.lookup(req.query['type'], req.query['value'], parseEventsLimit(req.query['events'])),
  );
  admin.get<OneIdParams>('/v1/persons/:oneId', ANALYTICS_READ, async (req) => {
    const person = await persons.get(req.params.oneId, parseEventsLimit(req.query['events']));
    const tags = ctx.deps.tags;
    return tags ? { ...person, tags: await tags.personTags([person.oneId]) } : person;
  });
  admin.post<OneIdParams>('/v1/persons/:oneId/split', async (req) =>
    persons.split(req.params.oneId, jsonBody(req)),
  );
  admin.get<OneIdParams>('/v1/persons/:oneId/export', async (req, reply) => {
    const lines = await persons.exportPerson(req.params.oneId);
    const file = `person-${req.params.oneId.replace(/[^A-Za-z0-9._-]/g, '_')}.ndjson`;
    return reply
      .type(NDJSON)
      .header('content-disposition', `attachment; filename="${file}"`)
      .send(Readable.from(lines));
  });
  admin.delete<OneIdParams>('/v1/persons/:oneId', async (req) => persons.remove(req.params.oneId));
}

export const personsArea: ApiArea = {
  name: 'persons',
  register: (admin, ctx) =>
    registerPersonRoutes(
      admin,
      ctx,
      ctx.deps.identityRules ? { rules: ctx.deps.identityRules } : {},
    ),
};
