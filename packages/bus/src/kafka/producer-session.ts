import type { Logger } from '@cdp/core';
import type { ProducerBatch } from 'kafkajs';

/** What {@link ProducerSession} needs of a kafkajs producer. */
export interface SessionProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  sendBatch(batch: ProducerBatch): Promise<unknown>;
}

/**
 * An idempotent kafkajs producer that is replaced after a failed send.
 *
 * When a request fails for one partition after others stored their records,
 * kafkajs rolls back the sequence numbers of all of them. The broker then
 * either takes the next batch of such a partition for a resend of the stored
 * one and drops it (reporting success), or refuses every later batch there
 * as out of order. The Java client bumps the producer epoch in this case;
 * kafkajs has no way to, so the next send after a failure starts a new
 * producer (a new producer id, sequences from zero) and retires the old one.
 * A caller that retries what failed may store some records twice (the bus is
 * at-least-once); none is dropped.
 */
export class ProducerSession {
  private current: SessionProducer;
  private suspect = false;
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    first: SessionProducer,
    private readonly create: () => SessionProducer,
    private readonly log: Logger,
  ) {
    this.current = first;
  }

  async send(batch: ProducerBatch): Promise<void> {
    if (this.suspect) await this.renew();
    try {
      await this.current.sendBatch(batch);
    } catch (err) {
      this.suspect = true;
      throw err;
    }
  }

  /** Disconnects the producer in use and waits for retired ones. */
  async disconnect(): Promise<void> {
    const results = await Promise.allSettled([this.current.disconnect(), ...this.retiring]);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async renew(): Promise<void> {
    const next = this.create();
    try {
      await next.connect();
    } catch (err) {
      await next.disconnect().catch(() => undefined);
      throw err;
    }
    const old = this.current;
    this.current = next;
    this.suspect = false;
    const retired = old
      .disconnect()
      .catch((err: unknown) => this.log.warn({ err }, 'bus_kafka_disconnect_failed'))
      .finally(() => this.retiring.delete(retired));
    this.retiring.add(retired);
    this.log.info('bus_kafka_producer_renewed');
  }
}
