/**
 * Alert rules over the warehouse: stored definitions (`alerts`, the webhook
 * secret sealed), evaluation (one query per rule: the window and its
 * references at once), states per breakdown value (`alert_state`), every
 * transition in `alert_events` and its notification: a signed webhook
 * (`x-cdp-timestamp`, `x-cdp-signature` as the exporter's, and
 * `x-cdp-delivery-id`: the transition's id), sent once. A transition is
 * recorded before it is sent and marked sent after, so a restarted
 * evaluator neither fires again (the state is stored) nor notifies again
 * (sent is stored); a crash between the send and the mark may send that
 * one again, with the same delivery id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { CdpError, type Logger } from '@cdp/core';
import { webhookHeaders } from '@cdp/destinations';
import {
  INITIAL_STATE,
  alertWindows,
  compareWindows,
  nextState,
  validateAlertRule,
  type AlertResult,
  type AlertRule,
  type AlertState,
  type AlertStateName,
  type WindowValue,
} from '@cdp/metrics';
import { mask, type SecretBox } from '@cdp/segment-exporter';
import { TABLES, type Warehouse, clickHouseTimeIso, clickHouseTimeMs } from '@cdp/warehouse';
import type { MetricsService } from './service.js';

const T = TABLES;
const MASK = '****';
/** Attempts of one notification before it is recorded as failed. */
export const MAX_NOTIFY_ATTEMPTS = 5;

export interface AlertView extends AlertRule {
  readonly id: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Each breakdown value's state ('' without a breakdown). */
  readonly states: readonly {
    key: string;
    state: AlertStateName;
    since: string;
    value: number | null;
    reference: number | null;
  }[];
}

export interface AlertEventView {
  readonly id: string;
  readonly alertId: string;
  readonly key: string;
  readonly from: AlertStateName;
  readonly to: AlertStateName;
  readonly at: string;
  readonly value: number | null;
  readonly reference: number | null;
  readonly change: number | null;
  readonly notified: string;
  readonly attempts: number;
  readonly error: string;
}

export interface TickReport {
  /** false: another process holds the evaluator's lease. */
  readonly active: boolean;
  readonly rules: number;
  readonly transitions: number;
  readonly notified: number;
  readonly ms: number;
}

export interface AlertService {
  list(): Promise<AlertView[]>;
  get(id: string): Promise<AlertView>;
  create(body: unknown): Promise<AlertView>;
  replace(id: string, body: unknown): Promise<AlertView>;
  remove(id: string): Promise<void>;
  /** Evaluates now, without recording or notifying. */
  test(id: string): Promise<{ results: Omit<AlertResult, 'clear'>[] }>;
  events(id: string, limit: number): Promise<AlertEventView[]>;
  /** One evaluation of every rule (if this process holds the lease), then the pending notifications. */
  tick(): Promise<TickReport>;
  /** Gives the evaluator's lease up (at shutdown), so that another process takes over at once. */
  release(): Promise<void>;
}

export interface AlertServiceDeps {
  readonly warehouse: Warehouse;
  readonly metrics: MetricsService;
  readonly secrets: SecretBox;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** This process's name in the evaluator's lease (default: a random id). */
  readonly holder?: string;
  /** How long a lease lasts without renewal (default 3 minutes). */
  readonly leaseMs?: number;
  /** The lease's name: evaluators of one name exclude each other (default `evaluator`). */
  readonly leaseName?: string;
  /** How long taking the lease over waits before reading it back (default 250 ms; see `lease`). */
  readonly leaseSettleMs?: number;
  /** Per-request timeout of a notification (default 10 s). */
  readonly timeoutMs?: number;
}

interface StoredRule {
  readonly id: string;
  readonly rule: AlertRule;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly version: number;
}

export function createAlertService(deps: AlertServiceDeps): AlertService {
  const wh = deps.warehouse;
  const now = deps.now ?? Date.now;
  const doFetch = deps.fetch ?? fetch;
  const holder = deps.holder ?? randomUUID();
  const leaseMs = deps.leaseMs ?? 180_000;
  const leaseName = deps.leaseName ?? 'evaluator';
  const settleMs = deps.leaseSettleMs ?? 250;
  const log = deps.logger;

  const readRules = async (id?: string): Promise<StoredRule[]> =>
    (
      await wh.query<{
        id: string;
        rule: string;
        created_at: string;
        updated_at: string;
        version: string;
      }>(
        `SELECT id, rule, toString(created_at) AS created_at, toString(updated_at) AS updated_at, toString(version) AS version
         FROM ${T.alerts} FINAL ${id !== undefined ? 'WHERE id = {id:String}' : ''} ORDER BY created_at, id`,
        id !== undefined ? { id } : {},
      )
    ).map((r) => ({
      id: r.id,
      rule: JSON.parse(r.rule) as AlertRule,
      createdAt: clickHouseTimeIso(r.created_at),
      updatedAt: clickHouseTimeIso(r.updated_at),
      version: Number(r.version),
    }));

  const find = async (id: string): Promise<StoredRule> => {
    const [r] = await readRules(id);
    if (!r)
      throw new CdpError('CDP_ERR_ALERT_NOT_FOUND', {
        field: 'id',
        message: `No alert with id ${id}`,
      });
    return r;
  };

  const readStates = async (
    ids: readonly string[],
  ): Promise<
    Map<string, Map<string, AlertState & { value: number | null; reference: number | null }>>
  > => {
    const rows = await wh.query<{
      alert_id: string;
      key: string;
      state: AlertStateName;
      since: string;
      clear_runs: number;
      value: number | null;
      reference: number | null;
      fired_reference: number | null;
    }>(
      `SELECT alert_id, key, state, toString(since) AS since, clear_runs, value, reference, fired_reference
       FROM ${T.alertState} FINAL WHERE alert_id IN {ids:Array(String)}`,
      { ids: [...ids] },
    );
    const out = new Map<
      string,
      Map<string, AlertState & { value: number | null; reference: number | null }>
    >();
    for (const r of rows) {
      let m = out.get(r.alert_id);
      if (!m)
        out.set(
          r.alert_id,
          (m = new Map<string, AlertState & { value: number | null; reference: number | null }>()),
        );
      m.set(r.key, {
        state: r.state,
        since: clickHouseTimeMs(r.since),
        clearRuns: Number(r.clear_runs),
        firedReference: r.fired_reference,
        value: r.value,
        reference: r.reference,
      });
    }
    return out;
  };

  /** What the API shows of a rule: the secret masked, with the states. */
  const view = (
    r: StoredRule,
    states:
      Map<string, AlertState & { value: number | null; reference: number | null }> | undefined,
  ): AlertView => ({
    ...r.rule,
    ...(r.rule.webhook
      ? {
          webhook: {
            url: r.rule.webhook.url,
            secret: mask(deps.secrets.open(r.rule.webhook.secret)),
          },
        }
      : {}),
    id: r.id,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    states: [
      ...(
        states ?? new Map<string, AlertState & { value: number | null; reference: number | null }>()
      ).entries(),
    ]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, s]) => ({
        key,
        state: s.state,
        since: new Date(s.since).toISOString(),
        value: s.value,
        reference: s.reference,
      })),
  });

  const known = async (): Promise<(name: string) => boolean> => {
    const names = new Set((await deps.metrics.list()).map((m) => m.name));
    return (n) => names.has(n);
  };

  const save = async (body: unknown, existing?: StoredRule): Promise<AlertView> => {
    let input = body;
    // A PUT that sends the masked secret back keeps the stored one.
    const b =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined;
    const hook = b?.['webhook'] as { url?: unknown; secret?: unknown } | undefined;
    const keep =
      existing?.rule.webhook && typeof hook?.secret === 'string' && hook.secret.startsWith(MASK);
    if (keep && existing?.rule.webhook && b)
      input = {
        ...b,
        webhook: { ...hook, secret: deps.secrets.open(existing.rule.webhook.secret) },
      };
    const rule = validateAlertRule(input, await known());
    const stored: AlertRule = rule.webhook
      ? {
          ...rule,
          webhook: { url: rule.webhook.url, secret: deps.secrets.seal(rule.webhook.secret) },
        }
      : rule;
    const t = now();
    const id = existing?.id ?? randomUUID();
    const at = new Date(t).toISOString();
    await wh.insert(T.alerts, [
      {
        id,
        rule: JSON.stringify(stored),
        created_at: existing?.createdAt ?? at,
        updated_at: at,
        version: Math.max(t, (existing?.version ?? 0) + 1),
        is_deleted: 0,
      },
    ]);
    const r = await find(id);
    return view(r, (await readStates([id])).get(id));
  };

  /** The rule's value and references per key, from one query. */
  const evaluate = async (
    r: StoredRule,
    states: ReadonlyMap<string, AlertState> | undefined,
    at: number,
  ): Promise<AlertResult[]> => {
    const w = alertWindows(r.rule, at);
    const ranges = [w.current, ...w.references];
    const { cells, empty: emptyValue } = await deps.metrics.cells(
      r.rule.metric,
      {
        buckets: { ranges },
        from: Math.min(...ranges.map((x) => x[0])),
        to: Math.max(...ranges.map((x) => x[1])),
        breakdown: r.rule.breakdown,
        filter: r.rule.filter,
      },
      r.rule.steps,
    );
    const none = new Map<string, WindowValue>();
    return compareWindows(
      r.rule,
      cells.get(0) ?? none,
      w.references.map((_, i) => cells.get(i + 1) ?? none),
      states?.keys() ?? [],
      emptyValue,
    );
  };

  const eventRow = (e: AlertEventView, version: number): Record<string, unknown> => ({
    id: e.id,
    alert_id: e.alertId,
    key: e.key,
    from_state: e.from,
    to_state: e.to,
    at: e.at,
    value: e.value,
    reference: e.reference,
    change: e.change,
    notified: e.notified,
    attempts: e.attempts,
    error: e.error,
    version,
  });

  const readEvents = async (
    where: string,
    params: Record<string, unknown>,
    limit: number,
  ): Promise<AlertEventView[]> =>
    (
      await wh.query<{
        id: string;
        alert_id: string;
        key: string;
        from_state: AlertStateName;
        to_state: AlertStateName;
        at: string;
        value: number | null;
        reference: number | null;
        change: number | null;
        notified: string;
        attempts: number;
        error: string;
      }>(
        `SELECT id, alert_id, key, from_state, to_state, toString(at) AS at, value, reference, change, notified, attempts, error
         FROM ${T.alertEvents} FINAL WHERE ${where} ORDER BY at DESC, id LIMIT {limit:UInt32}`,
        { ...params, limit },
      )
    ).map((e) => ({
      id: e.id,
      alertId: e.alert_id,
      key: e.key,
      from: e.from_state,
      to: e.to_state,
      at: clickHouseTimeIso(e.at),
      value: e.value,
      reference: e.reference,
      change: e.change,
      notified: e.notified,
      attempts: Number(e.attempts),
      error: e.error,
    }));

  /** Sends every pending notification once; answers how many went. */
  const deliver = async (rules: ReadonlyMap<string, StoredRule>): Promise<number> => {
    const pending = await readEvents(`notified = 'pending'`, {}, 1000);
    let sent = 0;
    for (const e of pending.reverse()) {
      // Another process took the lease over meanwhile (a long delivery): it sends the rest.
      if (!(await holding())) break;
      const r = rules.get(e.alertId);
      const hook = r?.rule.webhook;
      if (!r || !hook) {
        await wh.insert(T.alertEvents, [eventRow({ ...e, notified: 'none' }, now())]);
        continue;
      }
      const body = JSON.stringify({
        alert: {
          id: r.id,
          name: r.rule.name,
          metric: r.rule.metric,
          compare: r.rule.compare,
          direction: r.rule.direction,
        },
        event: {
          id: e.id,
          key: e.key,
          from: e.from,
          to: e.to,
          at: e.at,
          value: e.value,
          reference: e.reference,
          change: e.change,
        },
      });
      try {
        const res = await doFetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-cdp-delivery-id': e.id,
            ...webhookHeaders(deps.secrets.open(hook.secret), body, now()),
          },
          body,
          signal: AbortSignal.timeout(deps.timeoutMs ?? 10_000),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
        await wh.insert(T.alertEvents, [
          eventRow({ ...e, notified: 'sent', attempts: e.attempts + 1, error: '' }, now()),
        ]);
        sent++;
      } catch (err) {
        const attempts = e.attempts + 1;
        const error = err instanceof Error ? err.message : String(err);
        log.warn({ alert: r.id, event: e.id, attempts, err: error }, 'alert_notify_failed');
        await wh.insert(T.alertEvents, [
          eventRow(
            {
              ...e,
              notified: attempts >= MAX_NOTIFY_ATTEMPTS ? 'failed' : 'pending',
              attempts,
              error,
            },
            now(),
          ),
        ]);
      }
    }
    return sent;
  };

  const readLease = async (): Promise<{ holder: string; exp: number } | undefined> => {
    const [row] = await wh.query<{ holder: string; exp: string }>(
      `SELECT holder, toString(toUnixTimestamp64Milli(expires_at)) AS exp FROM ${T.alertLeases} FINAL WHERE name = {name:String}`,
      { name: leaseName },
    );
    return row ? { holder: row.holder, exp: Number(row.exp) } : undefined;
  };
  const writeLease = (expiresAt: number): Promise<void> =>
    wh.insert(T.alertLeases, [
      {
        name: leaseName,
        holder,
        expires_at: new Date(expiresAt).toISOString(),
        version: now() * 1000 + Math.floor(Math.random() * 1000),
      },
    ]);
  const holding = async (): Promise<boolean> => {
    const l = await readLease();
    return l !== undefined && l.holder === holder && l.exp > now();
  };

  /**
   * Takes or renews the evaluator's lease; false when another process holds
   * it. Taking it over (not renewing) waits `settleMs` before reading it
   * back: two processes that both found it free both wrote, and after the
   * wait both read the same winner (the later row), so only one evaluates.
   */
  const lease = async (): Promise<boolean> => {
    const cur = await readLease();
    const t = now();
    if (cur && cur.holder !== holder && cur.exp > t) return false;
    const renewing = cur?.holder === holder && cur.exp > t;
    await writeLease(t + leaseMs);
    if (!renewing && settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
    return (await readLease())?.holder === holder;
  };

  return {
    async list() {
      const rules = await readRules();
      const states = await readStates(rules.map((r) => r.id));
      return rules.map((r) => view(r, states.get(r.id)));
    },
    async get(id) {
      const r = await find(id);
      return view(r, (await readStates([id])).get(id));
    },
    create: (body) => save(body),
    async replace(id, body) {
      return save(body, await find(id));
    },
    async remove(id) {
      const r = await find(id);
      await wh.insert(T.alerts, [
        {
          id,
          rule: JSON.stringify(r.rule),
          created_at: r.createdAt,
          updated_at: new Date(now()).toISOString(),
          version: Math.max(now(), r.version + 1),
          is_deleted: 1,
        },
      ]);
    },
    async release() {
      if (await holding()) await writeLease(0);
    },
    async test(id) {
      const r = await find(id);
      const results = await evaluate(r, (await readStates([id])).get(id), now());
      return {
        results: results.map((x) => ({
          key: x.key,
          value: x.value,
          reference: x.reference,
          change: x.change,
          volume: x.volume,
          firing: x.firing,
        })),
      };
    },
    async events(id, limit) {
      await find(id);
      return readEvents('alert_id = {id:String}', { id }, limit);
    },
    async tick() {
      const started = Date.now();
      if (!(await lease()))
        return { active: false, rules: 0, transitions: 0, notified: 0, ms: Date.now() - started };
      const at = now();
      const rules = await readRules();
      const states = await readStates(rules.map((r) => r.id));
      const stateRows: Record<string, unknown>[] = [];
      const eventRows: Record<string, unknown>[] = [];
      for (const r of rules) {
        let results: AlertResult[];
        try {
          results = await evaluate(r, states.get(r.id), at);
        } catch (err) {
          log.warn({ err, alert: r.id }, 'alert_evaluation_failed');
          continue;
        }
        const snoozed = r.rule.snoozedUntil ? Date.parse(r.rule.snoozedUntil) > at : false;
        for (const res of results) {
          const prev = states.get(r.id)?.get(res.key) ?? INITIAL_STATE;
          const next = nextState(r.rule, prev, res, at);
          stateRows.push({
            alert_id: r.id,
            key: res.key,
            state: next.state.state,
            since: new Date(next.state.since || at).toISOString(),
            clear_runs: next.state.clearRuns,
            fired_reference: next.state.firedReference,
            value: res.value,
            reference: res.reference,
            version: at,
          });
          if (next.transition) {
            const notified = r.rule.muted
              ? 'muted'
              : snoozed
                ? 'snoozed'
                : r.rule.webhook
                  ? 'pending'
                  : 'none';
            eventRows.push(
              eventRow(
                {
                  // The same transition (from the same state) has the same id.
                  id: createHash('sha256')
                    .update(
                      `${r.id}\n${res.key}\n${prev.state}\n${prev.since}\n${next.transition.to}`,
                    )
                    .digest('hex')
                    .slice(0, 32),
                  alertId: r.id,
                  key: res.key,
                  from: next.transition.from,
                  to: next.transition.to,
                  at: new Date(at).toISOString(),
                  value: res.value,
                  reference: res.reference,
                  change: res.change,
                  notified,
                  attempts: 0,
                  error: '',
                },
                at,
              ),
            );
            log.info(
              {
                alert: r.id,
                name: r.rule.name,
                key: res.key,
                to: next.transition.to,
                value: res.value,
                reference: res.reference,
              },
              'alert_transition',
            );
          }
        }
      }
      // Transitions first: a crash before the states are written finds the
      // same transition again next time, under the same id (it replaces the
      // unsent row); sending comes after both.
      if (eventRows.length > 0) await wh.insert(T.alertEvents, eventRows);
      if (stateRows.length > 0) await wh.insert(T.alertState, stateRows);
      const notified = await deliver(new Map(rules.map((r) => [r.id, r])));
      return {
        active: true,
        rules: rules.length,
        transitions: eventRows.length,
        notified,
        ms: Date.now() - started,
      };
    },
  };
}
