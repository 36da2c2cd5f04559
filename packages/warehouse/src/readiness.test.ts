import { describe, expect, it } from 'vitest';
import { createReadinessProbe } from './readiness.js';

const never = (): Promise<void> => new Promise<void>(() => undefined);

describe('createReadinessProbe', () => {
  it('is ready when the ping answers, and shares one ping between callers', async () => {
    let pings = 0;
    const probe = createReadinessProbe({
      ping: async () => {
        pings++;
        await new Promise((r) => setTimeout(r, 20));
      },
      timeoutMs: 1000,
      maxAgeMs: 30_000,
      now: Date.now,
    });
    await Promise.all([probe.check(), probe.check(), probe.check()]);
    expect(pings).toBe(1);
  });

  it('answers from the last known state within timeoutMs when the engine is busy', async () => {
    let clock = 1_000_000;
    let slow = false;
    const probe = createReadinessProbe({
      ping: () => (slow ? never() : Promise.resolve()),
      timeoutMs: 30,
      maxAgeMs: 10_000,
      now: () => clock,
    });
    await probe.check();
    slow = true;
    clock += 5_000;
    const started = Date.now();
    await expect(probe.check()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(500);
    // A statement that completed counts as an answer.
    clock += 9_000;
    probe.answered();
    clock += 9_000;
    await expect(probe.check()).resolves.toBeUndefined();
    clock += 2_000;
    await expect(probe.check()).rejects.toMatchObject({
      code: 'CDP_ERR_WAREHOUSE_UNAVAILABLE',
      message: expect.stringMatching(/did not answer a ping within 30 ms, nor anything for 11 s/),
    });
  });

  it('is not ready at once when the ping fails, nor when nothing ever answered', async () => {
    const failing = createReadinessProbe({
      ping: () => Promise.reject(new Error('engine closed')),
      timeoutMs: 1000,
      maxAgeMs: 30_000,
      now: Date.now,
    });
    await expect(failing.check()).rejects.toThrow('engine closed');
    const silent = createReadinessProbe({
      ping: never,
      timeoutMs: 10,
      maxAgeMs: 30_000,
      now: Date.now,
    });
    await expect(silent.check()).rejects.toMatchObject({ code: 'CDP_ERR_WAREHOUSE_UNAVAILABLE' });
  });
});
