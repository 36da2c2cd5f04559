import { CdpError } from '@cdp/core';
import { describe, expect, it } from 'vitest';
import type { ProduceRecord } from '../bus.js';
import {
  ProduceBatcher,
  recordBytes,
  type ProduceBatcherOptions,
  type TopicRecords,
} from './produce-batcher.js';

/** A fake broker: records every request; each waits until released. */
function fakeBroker() {
  const requests: { request: readonly TopicRecords[]; release: (err?: Error) => void }[] = [];
  const send = (request: readonly TopicRecords[]): Promise<void> =>
    new Promise((resolve, reject) =>
      requests.push({
        request,
        release: (err) => (err === undefined ? resolve() : reject(err)),
      }),
    );
  return { requests, send };
}

function batcher(
  send: ProduceBatcherOptions['send'],
  over: Partial<ProduceBatcherOptions> = {},
): ProduceBatcher {
  return new ProduceBatcher({
    send,
    translate: (err) =>
      new CdpError('CDP_ERR_BUS_UNAVAILABLE', {
        message: String((err as Error).message),
        retryable: true,
        cause: err,
      }),
    lingerMs: 2,
    maxRequestBytes: 10_000,
    maxMessageBytes: 5_000,
    maxQueuedBytes: 100_000,
    produceTimeoutMs: 5_000,
    ...over,
  });
}

const rec = (key: string | null, value: string): ProduceRecord => ({ key, value });
const values = (r: readonly TopicRecords[]): string[] =>
  r.flatMap((t) => t.records.map((x) => `${t.topic}:${String(x.value)}`));
const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ProduceBatcher', () => {
  it('sends concurrent calls together, in call order, and resolves each on acknowledgement', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send);
    const settled: string[] = [];
    const calls = [
      b.produce('t1', [rec('k', 'a'), rec('k', 'b')]).then(() => settled.push('1')),
      b.produce('t2', [rec('k', 'c')]).then(() => settled.push('2')),
      b.produce('t1', [rec('k', 'd')]).then(() => settled.push('3')),
    ];
    await tick();
    expect(broker.requests).toHaveLength(1);
    expect(values(broker.requests[0]!.request)).toEqual(['t1:a', 't1:b', 't1:d', 't2:c']);
    expect(settled).toEqual([]);
    broker.requests[0]!.release();
    await Promise.all(calls);
    expect(settled).toEqual(['1', '2', '3']);
    expect(b.pendingBytes).toBe(0);
  });

  it('keeps one request in flight and sends what queued meanwhile as the next one', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send);
    const first = b.produce('t', [rec('k', '1')]);
    await tick();
    const later = [b.produce('t', [rec('k', '2')]), b.produce('t', [rec('k', '3')])];
    await tick();
    expect(broker.requests).toHaveLength(1);
    broker.requests[0]!.release();
    await first;
    await tick(0);
    expect(broker.requests).toHaveLength(2);
    expect(values(broker.requests[1]!.request)).toEqual(['t:2', 't:3']);
    broker.requests[1]!.release();
    await Promise.all(later);
  });

  it('splits a call over several requests when it is over maxRequestBytes, and resolves it after the last', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send, { maxRequestBytes: 1_000 });
    const value = 'x'.repeat(300);
    let done = false;
    const call = b
      .produce(
        't',
        Array.from({ length: 7 }, () => rec('k', value)),
      )
      .then(() => (done = true));
    const perRecord = recordBytes(rec('k', value));
    const perRequest = Math.floor(1_000 / perRecord);
    for (let i = 0; i < Math.ceil(7 / perRequest); i++) {
      await tick();
      const r = broker.requests[i]!;
      expect(r.request[0]!.records.length).toBeLessThanOrEqual(perRequest);
      expect(done).toBe(false);
      r.release();
    }
    await call;
    expect(broker.requests.reduce((n, r) => n + r.request[0]!.records.length, 0)).toBe(7);
  });

  it('rejects a record over maxMessageBytes at once, without sending anything of that call', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send);
    const err = await b
      .produce('t', [rec('k', 'ok'), rec('k', 'x'.repeat(6_000))])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CdpError);
    expect(err).toMatchObject({
      code: 'CDP_ERR_BUS_MESSAGE_TOO_LARGE',
      retryable: false,
      field: 'records[1]',
    });
    await tick();
    expect(broker.requests).toHaveLength(0);
  });

  it('refuses calls with a retryable backpressure error while maxQueuedBytes are unacknowledged', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send, { maxQueuedBytes: 2_000 });
    const value = 'x'.repeat(900);
    const accepted = [b.produce('t', [rec('k', value)]), b.produce('t', [rec('k', value)])];
    const refused = await b.produce('t', [rec('k', value)]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'CDP_ERR_INGEST_BACKPRESSURE', retryable: true });
    await tick();
    broker.requests[0]!.release();
    await Promise.all(accepted);
    expect(b.pendingBytes).toBe(0);
    const again = b.produce('t', [rec('k', value)]);
    await tick();
    broker.requests[1]!.release();
    await expect(again).resolves.toBeUndefined();
  });

  it('rejects every call of a failed request with the translated error, and goes on with the next', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send);
    const a = b.produce('t', [rec('k', '1')]).catch((e: unknown) => e);
    const c = b.produce('t', [rec('k', '2')]).catch((e: unknown) => e);
    await tick();
    broker.requests[0]!.release(new Error('connection refused'));
    expect(await a).toMatchObject({
      code: 'CDP_ERR_BUS_UNAVAILABLE',
      retryable: true,
      message: 'connection refused',
    });
    expect(await c).toMatchObject({ code: 'CDP_ERR_BUS_UNAVAILABLE' });
    const d = b.produce('t', [rec('k', '3')]);
    await tick();
    broker.requests[1]!.release();
    await d;
    expect(b.pendingBytes).toBe(0);
  });

  it('times out a call that is not acknowledged, and never sends its queued records', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send, { produceTimeoutMs: 30 });
    const first = b.produce('t', [rec('k', 'in flight')]).catch((e: unknown) => e);
    await tick();
    const queued = b.produce('t', [rec('k', 'queued')]).catch((e: unknown) => e);
    expect(await first).toMatchObject({ code: 'CDP_ERR_INGEST_BACKPRESSURE', retryable: true });
    expect(await queued).toMatchObject({ code: 'CDP_ERR_INGEST_BACKPRESSURE', retryable: true });
    broker.requests[0]!.release();
    await tick();
    expect(broker.requests).toHaveLength(1);
    expect(b.pendingBytes).toBe(0);
  });

  it('close() waits for what was accepted and then refuses new calls with CDP_ERR_BUS_CLOSED', async () => {
    const broker = fakeBroker();
    const b = batcher(broker.send, { lingerMs: 1_000 });
    let acked = false;
    const call = b.produce('t', [rec(null, 'last')]).then(() => (acked = true));
    const closed = b.close();
    await tick();
    expect(broker.requests).toHaveLength(1); // close does not wait out the linger
    broker.requests[0]!.release();
    await closed;
    await call;
    expect(acked).toBe(true);
    await expect(b.produce('t', [rec(null, 'after')])).rejects.toMatchObject({
      code: 'CDP_ERR_BUS_CLOSED',
    });
  });
});
