import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import { CdpError, type Logger } from '@cdp/core';
import { decodeBody, looksLikeJsonObject } from './decode-body.js';

/** Settings of {@link createHttpServer}. */
export interface HttpServerOptions {
  readonly logger: Logger;
  /** Trust X-Forwarded-For (behind a load balancer). */
  readonly trustProxy: boolean;
  /** Hard cap on a request body, in bytes (routes check their own, lower, limits). */
  readonly bodyLimit: number;
}

/**
 * The fastify instance a service (or the all-in-one runner) mounts its
 * route plugins on, without listening: no per-request log line, 503 while
 * closing, and a catalogue 404 for unknown routes.
 */
export function createHttpServer(opts: HttpServerOptions): FastifyInstance {
  // pino's Logger is a FastifyBaseLogger; typing it so keeps the default instance type.
  const fastifyLogger: FastifyBaseLogger = opts.logger;
  const app: FastifyInstance = Fastify({
    loggerInstance: fastifyLogger,
    // One log line per request would cost more than the request at 10k/s.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: opts.trustProxy,
    bodyLimit: opts.bodyLimit,
    return503OnClosing: true,
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).send(
      new CdpError('CDP_ERR_API_NOT_FOUND', {
        message: `No route ${req.method} ${req.url.split('?')[0] ?? ''}`,
      }).toJSON(),
    ),
  );
  return app;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Keeps request bodies as bytes (decompressed up to `maxDecodedBytes`), in
 * the plugin it is called in: handlers check UTF-8, JSON and limits
 * themselves, so that ingest can dead-letter what fails with the raw payload.
 */
export function registerByteBodies(app: FastifyInstance, maxDecodedBytes: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    ['application/json', 'text/plain', 'application/x-www-form-urlencoded'],
    { parseAs: 'buffer' },
    (req, raw, done) => {
      try {
        const body = decodeBody(raw as Buffer, headerOf(req, 'content-encoding'), maxDecodedBytes);
        const type = headerOf(req, 'content-type') ?? '';
        if (type.startsWith('application/x-www-form-urlencoded') && !looksLikeJsonObject(body)) {
          throw new CdpError('CDP_ERR_INGEST_CONTENT_TYPE', {
            field: 'content-type',
            message:
              'Form data is not accepted: send a JSON body as application/json or text/plain',
          });
        }
        done(null, body);
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
}
