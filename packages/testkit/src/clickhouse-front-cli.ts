#!/usr/bin/env node
/**
 * Runs the ClickHouse HTTP front over chDB as a process of its own:
 * `node packages/testkit/dist/clickhouse-front-cli.js --data-dir DIR [--port N] [--host H]`.
 * When it listens it prints one JSON line, `{"url":"http://127.0.0.1:N","port":N}`;
 * SIGTERM or SIGINT closes it.
 */
import { parseArgs } from 'node:util';
import { startClickHouseFront } from './clickhouse-front.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const dataDir = values['data-dir'];
if (dataDir === undefined || dataDir === '') {
  process.stderr.write('clickhouse-front: --data-dir is required\n');
  process.exit(2);
}
const front = await startClickHouseFront({
  dataDir,
  port: Number(values.port),
  host: values.host,
});
process.stdout.write(`${JSON.stringify({ url: front.url, port: front.port })}\n`);

const stop = async (): Promise<void> => {
  await front.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
