#!/usr/bin/env node
/**
 * Fetches Apache Kafka's broker jars into `.cache/kafka/<version>/libs` (a
 * no-op when present), for CI steps that warm the cache before tests:
 * `npm run kafka:fetch`. Prints the libs directory.
 */
import { fetchKafkaLibs } from './kafka/fetch.js';

try {
  const libs = await fetchKafkaLibs({
    log: (line) => process.stderr.write(`[kafka:fetch] ${line}\n`),
  });
  process.stdout.write(`${libs.libsDir}\n`);
} catch (err) {
  process.stderr.write(`[kafka:fetch] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
