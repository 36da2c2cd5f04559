import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Apache Kafka release the test broker runs. Keep in step with
 * `kafka.version` in infra/kafka/pom.xml (this value is passed to Maven, so
 * the pom's default is only for running it by hand). 4.4.0 does not resolve
 * from Maven Central (its kafka-tools-api jar is missing there).
 */
export const KAFKA_VERSION = '4.3.1';

/**
 * The repository root: the nearest parent of this module that holds
 * infra/kafka/pom.xml (this file runs from src/ under vitest and from dist/
 * when built).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'infra', 'kafka', 'pom.xml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`infra/kafka/pom.xml not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** `<repo>/.cache/kafka/<version>` (git-ignored), or `CDP_KAFKA_CACHE_DIR/<version>` when set. */
export function kafkaCacheDir(
  version = KAFKA_VERSION,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const base = env['CDP_KAFKA_CACHE_DIR']
    ? resolve(env['CDP_KAFKA_CACHE_DIR'])
    : join(repoRoot(), '.cache', 'kafka');
  return join(base, version);
}
