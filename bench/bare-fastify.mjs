// Baseline for bench/ingest.mjs: a bare fastify server that only parses and
// validates the same body (the same JSON Schema, compiled by ajv) and answers.
import Fastify from 'fastify';
import { createEventValidator } from '../packages/schemas/dist/index.js';

const validate = createEventValidator();
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser(
  ['application/json', 'text/plain'],
  { parseAs: 'buffer' },
  (_req, body, done) => done(null, body),
);
app.post('/v1/track', async (req, reply) => {
  const event = JSON.parse(req.body.toString('utf8'));
  const problem = validate('track', event);
  if (problem) return reply.code(400).send(problem);
  return { success: true };
});
// The same for a batch: parse, validate each item as its type, answer.
app.post('/v1/batch', async (req, reply) => {
  const body = JSON.parse(req.body.toString('utf8'));
  for (const item of body.batch) {
    const problem = validate(item.type, item);
    if (problem) return reply.code(400).send(problem);
  }
  return { success: true };
});
await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
process.stdout.write(`listening ${app.server.address().port}\n`);
