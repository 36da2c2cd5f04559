import { createLogger } from '@cdp/core';
import type { ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ProducerSession, type SessionProducer } from './producer-session.js';

const logger = createLogger({ service: 'test', level: 'silent' });
const batch: ProducerBatch = {
  topicMessages: [{ topic: 't', messages: [{ key: null, value: 'v' }] }],
};

/** A producer that records what happens to it; `failSends`/`failConnect` make it refuse. */
class Recorder implements SessionProducer {
  sent = 0;
  connected = false;
  disconnected = false;
  constructor(
    readonly id: number,
    private readonly opts: { failSends?: number; failConnect?: boolean } = {},
  ) {}
  connect(): Promise<void> {
    if (this.opts.failConnect) return Promise.reject(new Error(`connect ${this.id} refused`));
    this.connected = true;
    return Promise.resolve();
  }
  disconnect(): Promise<void> {
    this.disconnected = true;
    return Promise.resolve();
  }
  sendBatch(): Promise<unknown> {
    if ((this.opts.failSends ?? 0) > this.sent++)
      return Promise.reject(new Error(`send ${this.id} failed`));
    return Promise.resolve([]);
  }
}

describe('ProducerSession', () => {
  it('keeps one producer while sends succeed', async () => {
    const first = new Recorder(0);
    let created = 0;
    const s = new ProducerSession(first, () => new Recorder(++created), logger);
    for (let i = 0; i < 5; i++) await s.send(batch);
    expect(first.sent).toBe(5);
    expect(created).toBe(0);
  });

  it('sends with a new producer after a failure, and retires the old one', async () => {
    const first = new Recorder(0, { failSends: 1 });
    const made: Recorder[] = [];
    const s = new ProducerSession(
      first,
      () => {
        const r = new Recorder(made.length + 1);
        made.push(r);
        return r;
      },
      logger,
    );
    await expect(s.send(batch)).rejects.toThrow('send 0 failed');
    await s.send(batch);
    await s.send(batch);
    expect(made).toHaveLength(1);
    expect(made[0]!.connected).toBe(true);
    expect(made[0]!.sent).toBe(2);
    expect(first.sent).toBe(1);
    expect(first.disconnected).toBe(true);
    await s.disconnect();
    expect(made[0]!.disconnected).toBe(true);
  });

  it('fails the send when the new producer cannot connect, and tries again next time', async () => {
    const first = new Recorder(0, { failSends: 1 });
    const plans = [{ failConnect: true }, {}];
    const made: Recorder[] = [];
    const s = new ProducerSession(
      first,
      () => {
        const r = new Recorder(made.length + 1, plans[made.length]);
        made.push(r);
        return r;
      },
      logger,
    );
    await expect(s.send(batch)).rejects.toThrow('send 0 failed');
    await expect(s.send(batch)).rejects.toThrow('connect 1 refused');
    expect(first.disconnected).toBe(false);
    await s.send(batch);
    expect(made[1]!.sent).toBe(1);
    expect(first.disconnected).toBe(true);
  });
});
