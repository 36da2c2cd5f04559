import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';

/** Whether something accepts TCP connections on `host:port` (within `timeoutMs`). */
export function tcpAnswers(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Checks that a Kafka cluster serves metadata: an admin client connects,
 * describes the cluster and lists topics. Throws (with kafkajs's error as
 * `cause`) when it does not within `timeoutMs`.
 */
export async function probeKafka(
  brokers: readonly string[],
  timeoutMs = 5_000,
): Promise<{ clusterId: string; brokers: number }> {
  const kafka = new Kafka({
    clientId: 'cdp-testkit-probe',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 3_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`no answer from Kafka at ${brokers.join(',')} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      (async () => {
        await admin.connect();
        const cluster = await admin.describeCluster();
        await admin.listTopics();
        return { clusterId: cluster.clusterId, brokers: cluster.brokers.length };
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Makes a fresh cluster ready for consumer groups: the first group lookup
 * creates `__consumer_offsets` and waits for its coordinator to load, which
 * otherwise lands (for seconds, on a small machine) on whichever test joins a
 * group first.
 */
export async function warmUpKafka(brokers: readonly string[], timeoutMs = 60_000): Promise<void> {
  const kafka = new Kafka({
    clientId: 'cdp-testkit-warmup',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  const deadline = Date.now() + timeoutMs;
  try {
    await admin.connect();
    for (;;) {
      try {
        await admin.describeGroups(['cdp-testkit-warmup']);
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw new Error(`Kafka group coordinator not ready after ${timeoutMs} ms`, {
            cause: err,
          });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
