import { describe, expect, it } from 'vitest';
import { createAdhocGate, createSerialScheduler } from './lanes.js';

/** A task that waits until `release()` is called. */
function gated(): { promise: Promise<void>; release: () => void } {
  let release = (): void => undefined;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('createSerialScheduler', () => {
  it('runs one statement at a time, waiting system statements before waiting queries', async () => {
    const scheduler = createSerialScheduler();
    const order: string[] = [];
    const first = gated();
    let running = 0;
    let most = 0;
    const task = (name: string, wait?: Promise<void>) => async (): Promise<void> => {
      running++;
      most = Math.max(most, running);
      order.push(name);
      await wait;
      running--;
    };
    const all = [
      scheduler.run('interactive', task('long query', first.promise)),
      scheduler.run('interactive', task('query 1')),
      scheduler.run('interactive', task('query 2')),
      scheduler.run('system', task('insert')),
    ];
    first.release();
    await Promise.all(all);
    expect(order).toEqual(['long query', 'insert', 'query 1', 'query 2']);
    expect(most).toBe(1);
  });
});

describe('createAdhocGate', () => {
  it('runs at most maxConcurrent and refuses one over maxQueued at once with CDP_ERR_SQL_BUSY', async () => {
    const gate = createAdhocGate({ maxConcurrent: 2, maxQueued: 1 });
    const hold = gated();
    const running = [gate.run(() => hold.promise), gate.run(() => hold.promise)];
    const queued = gate.run(async () => 'queued ran');
    expect({ running: gate.running, waiting: gate.waiting }).toEqual({ running: 2, waiting: 1 });
    await expect(gate.run(async () => 'never')).rejects.toMatchObject({
      code: 'CDP_ERR_SQL_BUSY',
      statusCode: 429,
      retryable: true,
    });
    hold.release();
    await Promise.all(running);
    expect(await queued).toBe('queued ran');
  });

  it('refuses a query that waited queueTimeoutMs for a slot, and never cuts a running one', async () => {
    const gate = createAdhocGate({ maxConcurrent: 1, queueTimeoutMs: 50 });
    const started = Date.now();
    const slow = gate.run(
      () => new Promise<string>((resolve) => setTimeout(() => resolve('slow done'), 200)),
    );
    await expect(gate.run(async () => 'never')).rejects.toMatchObject({
      code: 'CDP_ERR_SQL_BUSY',
    });
    expect(Date.now() - started).toBeLessThan(190);
    // The running query outlived the waiter's timeout and still holds the one slot.
    expect(gate.running).toBe(1);
    expect(await slow).toBe('slow done');
    expect(await gate.run(async () => 'next')).toBe('next');
  });

  it("passes a query's own error through", async () => {
    const gate = createAdhocGate({ queueTimeoutMs: 1000 });
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
