import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock } from './file-lock.js';
import { KAFKA_VERSION, kafkaCacheDir, repoRoot } from './paths.js';

export interface FetchKafkaOptions {
  /** Apache Kafka release (default `KAFKA_VERSION`). */
  readonly version?: string;
  /** Where `libs/` goes (default `kafkaCacheDir(version)`). */
  readonly cacheDir?: string;
  /** Maven executable (default `mvn` on PATH). */
  readonly mvn?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface KafkaLibs {
  readonly version: string;
  /** Directory holding the broker's jars; the classpath is `<libsDir>/*`. */
  readonly libsDir: string;
  /** Whether this call ran Maven (false when the jars were cached). */
  readonly fetched: boolean;
}

/** The jar that marks a complete `libs/` for `version`. */
function markerJar(version: string): string {
  return `kafka_2.13-${version}.jar`;
}

/** The cached libs dir if it is complete, without fetching. */
export function cachedKafkaLibs(
  version = KAFKA_VERSION,
  cacheDir = kafkaCacheDir(version),
): string | undefined {
  const libsDir = join(cacheDir, 'libs');
  return existsSync(join(libsDir, markerJar(version))) ? libsDir : undefined;
}

/**
 * Makes sure Apache Kafka's broker jars are in the cache, fetching them from
 * Maven Central with `infra/kafka/pom.xml` if not. Idempotent; a lock file
 * keeps two processes from fetching at once, and the jars land in a scratch
 * directory that is renamed into place only when complete.
 */
export async function fetchKafkaLibs(opts: FetchKafkaOptions = {}): Promise<KafkaLibs> {
  const version = opts.version ?? KAFKA_VERSION;
  const cacheDir = opts.cacheDir ?? kafkaCacheDir(version);
  const cached = cachedKafkaLibs(version, cacheDir);
  if (cached) return { version, libsDir: cached, fetched: false };

  await mkdir(cacheDir, { recursive: true });
  return withFileLock(
    join(cacheDir, '.fetch.lock'),
    async () => {
      const again = cachedKafkaLibs(version, cacheDir);
      if (again) return { version, libsDir: again, fetched: false };

      const libsDir = join(cacheDir, 'libs');
      const scratch = join(cacheDir, `libs.partial-${process.pid}`);
      await rm(scratch, { recursive: true, force: true });
      await rm(libsDir, { recursive: true, force: true });
      const pom = join(repoRoot(), 'infra', 'kafka', 'pom.xml');
      const started = Date.now();
      opts.log?.(`fetching Apache Kafka ${version} jars with Maven (${pom}) into ${libsDir}`);
      await runMaven(opts.mvn ?? 'mvn', [
        '-B',
        '-q',
        '-f',
        pom,
        `-Dkafka.version=${version}`,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${scratch}`,
      ]);
      const jars = (await readdir(scratch)).filter((f) => f.endsWith('.jar'));
      if (!jars.includes(markerJar(version))) {
        throw new Error(
          `Maven finished but ${markerJar(version)} is not in ${scratch} (got ${jars.length} jars)`,
        );
      }
      await rename(scratch, libsDir);
      opts.log?.(`fetched ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { version, libsDir, fetched: true };
    },
    {
      onWait: (holder) => opts.log?.(`waiting for another process fetching Kafka jars (${holder})`),
    },
  );
}

function runMaven(mvn: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (chunk: Buffer): void => {
      out = (out + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'ENOENT'
          ? new Error(
              `Maven ("${mvn}") is not on PATH; it is needed once to fetch the Kafka broker jars`,
              { cause: err },
            )
          : err,
      );
    });
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${mvn} ${args.join(' ')} failed (${signal ?? `exit ${String(code)}`}):\n${out.trim()}`,
          ),
        );
    });
  });
}
