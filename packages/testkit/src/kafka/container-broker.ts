import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KafkaHandle } from './handle.js';

/** Image for the testcontainers broker; `CDP_TEST_KAFKA_IMAGE` overrides it. */
export const DEFAULT_KAFKA_IMAGE = 'confluentinc/cp-kafka:7.9.0';

/**
 * Cheap guess whether a Docker engine could be there (a socket or
 * `DOCKER_HOST`), so machines without one do not pay for testcontainers'
 * discovery. `dockerAnswers()` then asks the engine itself.
 */
export function dockerMaybePresent(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['DOCKER_HOST']) return true;
  return [
    '/var/run/docker.sock',
    join(homedir(), '.docker', 'run', 'docker.sock'),
    join(homedir(), '.colima', 'default', 'docker.sock'),
  ].some((p) => existsSync(p));
}

/** Whether a container engine answers (testcontainers' own discovery). */
export async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * A single-node KRaft broker in a container, through `@testcontainers/kafka`.
 * Not exercised on machines without Docker (the JVM broker is used there).
 */
export async function startContainerBroker(image = DEFAULT_KAFKA_IMAGE): Promise<KafkaHandle> {
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const container = await new KafkaContainer(image).withKraft().start();
  let stopping: Promise<void> | undefined;
  return {
    kind: 'container',
    brokers: [`${container.getHost()}:${container.getMappedPort(9093)}`],
    stop: () =>
      (stopping ??= container.stop().then(
        () => undefined,
        () => undefined,
      )),
  };
}
