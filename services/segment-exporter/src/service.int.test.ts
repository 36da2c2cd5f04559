/**
 * Audience runs on real parts (chDB, the embedded bus): a failed run keeps
 * the last good membership and says why, the next one goes on; the schedule
 * runs an audience when its interval has passed (a clock the test sets), and
 * a run stopped half-way at once.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, type EventSink, type TrackCall } from '@cdp/core';
import { TABLES, type Warehouse } from '@cdp/warehouse';
import { useRealParts } from './test-parts.js';
import { createAudienceService, type AudienceService } from './service.js';

const logger = createLogger({ service: 'audiences-test', level: 'silent' });
const parts = useRealParts('cdp-audience-runs', logger);

/** A buyer of `run` (an Order Completed event stamped with their id). */
const buyer = async (run: string, person: string): Promise<void> => {
  await parts.wh.insert(TABLES.events, [
    {
      message_id: randomUUID(),
      source_id: 'test',
      type: 'track',
      event: 'Order Completed',
      one_id: person,
      user_id: person,
      timestamp: new Date().toISOString(),
      received_at: new Date().toISOString(),
      properties: JSON.stringify({ run }),
    },
  ]);
  await parts.wh.insert(TABLES.identities, [
    {
      id_type: 'user_id',
      id_value: person,
      one_id: person,
      first_seen: 0,
      last_seen: 0,
      version: 1,
    },
  ]);
};

/** The warehouse, with the next `fail` inserts into the snapshot table failing. */
const flaky = (): Warehouse & { fail: number } => {
  const w = {
    ...parts.wh,
    fail: 0,
    kind: parts.wh.kind,
    migrate: () => parts.wh.migrate(),
    insert: (t: string, rows: readonly Record<string, unknown>[]) => parts.wh.insert(t, rows),
    insertLines: (t: string, lines: readonly string[]) => parts.wh.insertLines(t, lines),
    query: <T>(sql: string, params?: Record<string, unknown>) => parts.wh.query<T>(sql, params),
    queryReadonly: (sql: string, params?: Record<string, unknown>) =>
      parts.wh.queryReadonly(sql, params),
    ping: () => parts.wh.ping(),
    close: () => parts.wh.close(),
    command: async (sql: string, params?: Record<string, unknown>) => {
      if (w.fail > 0 && sql.includes(`INSERT INTO ${TABLES.audienceSnapshots}`)) {
        w.fail--;
        throw new Error('injected: the warehouse refused the insert');
      }
      return parts.wh.command(sql, params);
    },
  };
  return w;
};

const service = (
  warehouse: Warehouse,
  clock?: { t: number },
  sent?: TrackCall[],
): AudienceService => {
  const events: EventSink = {
    track: async (calls) => {
      sent?.push(...calls);
    },
  };
  return createAudienceService({
    warehouse,
    bus: parts.bus,
    changesTopic: 'cdp.audiences.changes',
    events,
    logger,
    ...(clock ? { now: () => clock.t } : {}),
  });
};

const definition = (run: string): unknown => ({
  conditions: {
    performed: { event: 'Order Completed', where: [{ property: 'run', op: 'eq', value: run }] },
  },
});

describe('audience runs', () => {
  it('an audience deleted and created again at the same clock time is there', async () => {
    const run = randomUUID().slice(0, 8);
    const clock = { t: Date.parse('2026-06-01T00:00:00Z') };
    const svc = service(parts.wh, clock);
    const name = `again-${run}`;
    await svc.create({ name, definition: definition(run), refresh: 'manual' });
    await svc.remove(name);
    await expect(svc.get(name)).rejects.toMatchObject({ code: 'CDP_ERR_AUDIENCE_NOT_FOUND' });
    await svc.create({ name, definition: definition(`${run}-2`), refresh: 'manual' });
    expect((await svc.get(name)).definition).toEqual(definition(`${run}-2`));
    await svc.remove(name);
    await expect(svc.get(name)).rejects.toMatchObject({ code: 'CDP_ERR_AUDIENCE_NOT_FOUND' });
  });

  it('a failed run keeps the last good membership, records why, and the next run goes on', async () => {
    const run = randomUUID().slice(0, 8);
    const w = flaky();
    const sent: TrackCall[] = [];
    const s = service(w, undefined, sent);
    const name = `fail-${run}`;
    await s.create({ name, definition: definition(run), refresh: 'manual' });
    await buyer(run, `p1-${run}`);
    expect(await s.refresh(name)).toMatchObject({
      version: 1,
      status: 'done',
      size: 1,
      entered: 1,
    });

    await buyer(run, `p2-${run}`);
    w.fail = 1;
    await expect(s.refresh(name)).rejects.toMatchObject({ code: 'CDP_ERR_AUDIENCE_RUN_FAILED' });
    const [failed] = await s.runs(name, 1);
    expect(failed).toMatchObject({ version: 2, status: 'failed' });
    expect(failed?.error).toContain('injected');
    const a = await s.get(name);
    expect(a.size).toBe(1);
    expect(a.computedAt).toBe((await s.runs(name, 5)).find((r) => r.version === 1)?.finishedAt);
    expect((await s.members(name, undefined, 10)).members.map((m) => m.personId)).toEqual([
      `p1-${run}`,
    ]);

    expect(await s.refresh(name)).toMatchObject({
      version: 3,
      status: 'done',
      size: 2,
      entered: 1,
    });
    expect(sent.map((c) => [c.event, c.userId])).toEqual([
      ['Audience Entered', `p1-${run}`],
      ['Audience Entered', `p2-${run}`],
    ]);
  });

  it('the schedule runs an audience once its interval has passed, and a stopped run at once', async () => {
    const run = randomUUID().slice(0, 8);
    const clock = { t: Date.now() };
    const s = service(parts.wh, clock);
    const name = `sched-${run}`;
    await s.create({ name, definition: definition(run), refresh: 60 });
    await buyer(run, `p1-${run}`);
    const ran = async (): Promise<number> => {
      await s.runDue();
      return (await s.runs(name, 100)).length;
    };
    expect(await ran()).toBe(1);
    clock.t += 59_000;
    expect(await ran()).toBe(1);
    clock.t += 1_000;
    expect(await ran()).toBe(2);
    // A run stopped half-way (as a crash leaves it) is finished on the next tick.
    await parts.wh.insert(TABLES.audienceRuns, [
      {
        audience: name,
        version: 3,
        status: 'running',
        trigger: 'schedule',
        at: clock.t,
        definition_version: 1,
        started_at: clock.t,
        finished_at: null,
        size: 0,
        entered: 0,
        exited: 0,
        duration_ms: 0,
        error: '',
        updated: 1,
      },
    ]);
    clock.t += 1_000;
    expect(await ran()).toBe(3);
    expect((await s.runs(name, 1))[0]).toMatchObject({ version: 3, status: 'done', size: 1 });
  });
});
