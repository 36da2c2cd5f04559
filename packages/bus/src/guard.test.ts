import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MessageBatch, Subscription } from './bus.js';
import { createEmbeddedBus, type EmbeddedBus } from './embedded/index.js';
import { createConsumerHealth, guardConsumer, type PoisonRecord } from './guard.js';

/** Resolves when `check` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('guardConsumer on the embedded bus', () => {
  let dir: string;
  let bus: EmbeddedBus;
  const subs: Subscription[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cdp-guard-'));
    bus = await createEmbeddedBus({ dir, retryBackoffMs: 5, maxRetryBackoffMs: 20 });
    await bus.ensureTopics([{ name: 't', partitions: 1 }]);
  });
  afterEach(async () => {
    await Promise.all(subs.splice(0).map((s) => s.close()));
    await bus.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A handler that refuses any batch holding a record whose value starts with `bad`. */
  const strict = (handled: string[]) => async (b: MessageBatch) => {
    const values = b.messages.map((m) => m.value.toString());
    const bad = values.find((v) => v.startsWith('bad'));
    if (bad !== undefined) throw new Error(`cannot store ${bad}`);
    handled.push(...values);
  };

  it('dead-letters the one bad record with its reason and handles every other one', async () => {
    const handled: string[] = [];
    const dead: PoisonRecord[] = [];
    const registry = new Registry();
    const health = createConsumerHealth({ registry });
    const values = Array.from({ length: 41 }, (_, i) => (i === 17 ? 'bad-17' : `ok-${i}`));
    await bus.produce(
      't',
      values.map((v) => ({ key: null, value: v })),
    );
    subs.push(
      await bus.subscribe({
        topic: 't',
        group: 'g',
        maxWaitMs: 5,
        handleBatch: guardConsumer({
          name: 'test',
          handleBatch: strict(handled),
          deadLetter: async (r) => {
            dead.push(...r);
          },
          probe: async () => {},
          health,
        }),
      }),
    );
    await until(() => handled.length === 40);
    expect(dead.map((d) => [d.message.value.toString(), d.reason])).toEqual([
      ['bad-17', 'cannot store bad-17'],
    ]);
    expect(new Set(handled)).toEqual(new Set(values.filter((v) => v !== 'bad-17')));
    // Later records are not stuck behind it.
    await bus.produce('t', [{ key: null, value: 'ok-after' }]);
    await until(() => handled.includes('ok-after'));
    const metrics = await registry.getSingleMetricAsString('cdp_consumer_dead_lettered_total');
    expect(metrics).toContain('cdp_consumer_dead_lettered_total{consumer="test"} 1');
    expect(health.stuck()).toEqual([]);
  });

  it('dead-letters nothing while the dependency is down, and reports the consumer stuck', async () => {
    const handled: string[] = [];
    const dead: PoisonRecord[] = [];
    let clock = 1_000_000;
    const health = createConsumerHealth({ stuckAfterMs: 30_000, now: () => clock });
    let down = true;
    let probes = 0;
    await bus.produce('t', [
      { key: null, value: 'ok-1' },
      { key: null, value: 'ok-2' },
    ]);
    subs.push(
      await bus.subscribe({
        topic: 't',
        group: 'g',
        maxWaitMs: 5,
        handleBatch: guardConsumer({
          name: 'loader.events',
          handleBatch: async (b) => {
            if (down) throw new Error('warehouse unreachable');
            await strict(handled)(b);
          },
          deadLetter: async (r) => {
            dead.push(...r);
          },
          probe: async () => {
            probes++;
            if (down) throw new Error('warehouse unreachable');
          },
          health,
        }),
      }),
    );
    // Isolation ran (the probe was asked) and refused to blame the records.
    await until(() => probes >= 3);
    expect(health.stuck()).toEqual([]);
    clock += 31_000;
    const [stuck] = health.stuck();
    expect(stuck).toMatchObject({ consumer: 'loader.events', lastError: 'warehouse unreachable' });
    expect(stuck?.failures).toBeGreaterThanOrEqual(3);
    down = false;
    await until(() => handled.length === 2);
    expect(dead).toEqual([]);
    expect(health.stuck()).toEqual([]);
  });

  it('reports the age of the oldest record in hand as the lag', async () => {
    let clock = 5_000;
    const registry = new Registry();
    const health = createConsumerHealth({ registry, now: () => clock });
    const track = health.consumer('c');
    track.started('t:0', 1_000);
    track.started('t:1', 3_000);
    const gauge = async () =>
      registry.getSingleMetricAsString('cdp_consumer_oldest_pending_seconds');
    expect(await gauge()).toContain('{consumer="c"} 4');
    track.succeeded('t:0');
    clock = 6_000;
    expect(await gauge()).toContain('{consumer="c"} 3');
    track.succeeded('t:1');
    expect(await gauge()).toContain('{consumer="c"} 0');
  });
});
