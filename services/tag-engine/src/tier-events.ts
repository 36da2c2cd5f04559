import {
  eventIdentity,
  stableMessageId,
  type EventSink,
  type Logger,
  type TrackCall,
} from '@cdp/core';
export type { EventSink, TrackCall } from '@cdp/core';
export { stableMessageId } from '@cdp/core';
import type { TagDefinition } from '@cdp/tags';
import { TABLES, type Warehouse } from '@cdp/warehouse';

const T = TABLES;

/**
 * Records the member tier changes of a run in `tier_history` (joined,
 * upgrade, downgrade, left) and emits `Tier Upgraded` / `Tier Downgraded`
 * for the people who have a user id or an anonymous id to carry them.
 * Returns the number of changes. Message ids derive from the person, the
 * change and the state before it, so a replayed run sends the same ids and
 * the warehouse keeps one copy.
 */
export async function tierEvents(deps: {
  readonly warehouse: Warehouse;
  readonly logger: Logger;
  readonly events: EventSink | undefined;
  readonly runId: number;
  /** The time the tags were computed for. */
  readonly at: number;
  readonly defs: readonly TagDefinition[];
}): Promise<number> {
  const { warehouse: wh, runId } = deps;
  let total = 0;
  for (const d of deps.defs) {
    if (d.type !== 'member_tier') continue;
    const params = {
      run: runId,
      at: deps.at,
      tag: d.name,
      review: `_${d.name}_review`,
      names: d.params.tiers.map((t) => t.name),
    };
    const changes = `SELECT person_id, old_tags[{tag:String}] AS from_tier, tags[{tag:String}] AS to_tier,
        old_tags[{review:String}] AS old_review,
        multiIf(from_tier = '', 'joined', to_tier = '', 'left',
          indexOf({names:Array(String)}, to_tier) > indexOf({names:Array(String)}, from_tier), 'upgrade', 'downgrade') AS reason
      FROM ${T.tagRunChanges} WHERE run_id = {run:UInt64} AND old_tags[{tag:String}] != tags[{tag:String}]`;
    await wh.command(
      `INSERT INTO ${T.tierHistory} (person_id, tag, from_tier, to_tier, reason, at, run_id)
       SELECT person_id, {tag:String}, from_tier, to_tier, reason, fromUnixTimestamp64Milli({at:Int64}, 'UTC'), {run:UInt64}
       FROM (${changes})`,
      params,
    );
    const [n] = await wh.query<{ n: string }>(
      `SELECT toString(count()) AS n FROM (${changes})`,
      params,
    );
    total += Number(n?.n ?? 0);
    if (!deps.events) continue;
    const moves = await wh.query<{
      person_id: string;
      from_tier: string;
      to_tier: string;
      old_review: string;
      reason: string;
      user_id: string;
      anonymous_id: string;
    }>(
      `SELECT c.person_id AS person_id, c.from_tier AS from_tier, c.to_tier AS to_tier, c.old_review AS old_review,
         c.reason AS reason, i.user_id AS user_id, i.anonymous_id AS anonymous_id
       FROM (SELECT * FROM (${changes}) WHERE reason IN ('upgrade', 'downgrade')) AS c
       LEFT JOIN (
         SELECT one_id, anyIf(id_value, id_type = 'user_id') AS user_id, minIf(id_value, id_type = 'anonymous_id') AS anonymous_id
         FROM ${T.identities} FINAL
         WHERE is_deleted = 0 AND id_type IN ('user_id', 'anonymous_id')
           AND one_id IN (SELECT person_id FROM (${changes}) WHERE reason IN ('upgrade', 'downgrade'))
         GROUP BY one_id
       ) AS i ON c.person_id = i.one_id`,
      params,
    );
    const calls: TrackCall[] = [];
    let skipped = 0;
    for (const m of moves) {
      const who = eventIdentity(m);
      if (!who) {
        skipped++;
        continue;
      }
      calls.push({
        type: 'track',
        messageId: stableMessageId(
          `tier|${m.person_id}|${d.name}|${m.from_tier}|${m.to_tier}|${m.old_review}`,
        ),
        ...who,
        event: m.reason === 'upgrade' ? 'Tier Upgraded' : 'Tier Downgraded',
        properties: { tag: d.name, from: m.from_tier, to: m.to_tier, personId: m.person_id },
        timestamp: new Date(deps.at).toISOString(),
        context: { library: { name: 'cdp-tag-engine', version: '0.1.0' } },
      });
    }
    if (skipped > 0) deps.logger.warn({ skipped, tag: d.name }, 'tier_event_without_identifier');
    for (let i = 0; i < calls.length; i += 1000) await deps.events.track(calls.slice(i, i + 1000));
  }
  return total;
}
