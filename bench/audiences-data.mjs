// The data of the audience benches (bench/audiences-preview.mjs,
// bench/audiences-refresh.mjs): people, events, merges and tags made by
// chDB's own generator (numbers()), in a few seconds per million events.
import { performance } from 'node:perf_hooks';

// A fixed "now": the data is generated relative to it, so a kept data dir
// gives the same members on every run.
export const NOW = Date.parse('2026-06-01T00:00:00Z');

export const CATS = "['shoes','shirts','bags','hats','socks','jackets','watches','toys']";
export const CH =
  "['Direct','Organic Search','Paid Search','Email','Organic Social','Referral','Display','Affiliates']";
export const RFM = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New Customers',
  'Promising',
  'Need Attention',
  'About To Sleep',
  'At Risk',
  'Cannot Lose Them',
  'Hibernating',
];
const arr = (xs) => `[${xs.map((x) => `'${x}'`).join(',')}]`;

// Per event n: person p = n % PEOPLE, k-th event of the person (10 each at
// the defaults). A person is active for about a month somewhere in the year
// before NOW (first event 0-335 days after NOW - 365 days, then one every 3
// days), so the events fill 12 monthly partitions and about one person in
// eight is active in the last 30 days. 50% page views, 20% Product Viewed
// and 13% Product Added (a category and a price 0-299), 8% Checkout Started,
// 5% Signed Up, 4% Order Completed (revenue 10-409, a category, a coupon on
// one in four). 20% of people have their first three events under a
// provisional id that OneID merged later (a person_overrides row).
export const generatorSql = (EVENTS, PEOPLE) => `
INSERT INTO events (message_id, source_id, type, event, name, anonymous_id, user_id, one_id, group_id,
  previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium, utm_campaign,
  utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot, properties, traits, context, loaded_at)
SELECT concat('m', toString(n)), 'bench', if(r < 500, 'page', 'track'),
  multiIf(r < 500, '', r < 700, 'Product Viewed', r < 830, 'Product Added', r < 910, 'Checkout Started',
    r < 960, 'Signed Up', 'Order Completed') AS ev,
  if(r < 500, 'Home', ''), concat('a', toString(p)), '',
  if(p % 5 = 0 AND k < 3, concat('q', toString(p)), concat('p', toString(p))), '', '',
  ts, ts, '', ${CH}[cityHash64(p, k, 4) % 8 + 1], '', '', '', '', '', '', '', '', '', '', false,
  multiIf(ev = 'Order Completed', concat('{"revenue":', toString(10 + cityHash64(n, 3) % 400), ',"category":"',
      ${CATS}[cityHash64(p, k, 7) % 8 + 1], '"', if(cityHash64(n, 8) % 4 = 0, ',"coupon":"SAVE10"', ''), '}'),
    ev IN ('Product Viewed', 'Product Added'), concat('{"category":"', ${CATS}[cityHash64(p, k, 7) % 8 + 1],
      '","price":', toString(cityHash64(n, 3) % 300), '}'),
    '{}'),
  '{}', '{}', ts
FROM (
  SELECT n, p, k, r,
    least(fromUnixTimestamp64Milli(${NOW}, 'UTC'),
      fromUnixTimestamp64Milli(${NOW}, 'UTC') - toIntervalDay(365) + toIntervalSecond(cityHash64(p, 1) % (335 * 86400) + k * 3 * 86400 + cityHash64(n, 2) % 86400)) AS ts
  FROM (SELECT number AS n, number % ${PEOPLE} AS p, intDiv(number, ${PEOPLE}) AS k, cityHash64(number) % 1000 AS r
        FROM numbers(${EVENTS})))`;
export const overridesSql = (
  PEOPLE,
) => `INSERT INTO person_overrides (from_one_id, into_one_id, reason, version)
  SELECT concat('q', toString(number * 5)), concat('p', toString(number * 5)), 'identify', 1
  FROM numbers(${Math.ceil(PEOPLE / 5)})`;
// rfm_group for 85% of people (one of ten segments), churn_risk for 90%
// (low 50%, medium 30%, high 20%), as the tag engine would have left them
// (its last run an hour before NOW). Events are loaded at their own time.
export const tagsSql = (
  PEOPLE,
) => `INSERT INTO person_tags (person_id, tag, value, computed_at, version)
  SELECT concat('p', toString(p)), t, v, fromUnixTimestamp64Milli(${NOW - 3_600_000}, 'UTC'), 1 FROM (
    SELECT number AS p, 'rfm_group' AS t, ${arr(RFM)}[cityHash64(number, 11) % 10 + 1] AS v
    FROM numbers(${PEOPLE}) WHERE cityHash64(number, 12) % 100 < 85
    UNION ALL
    SELECT number AS p, 'churn_risk' AS t,
      multiIf(cityHash64(number, 13) % 10 < 5, 'low', cityHash64(number, 13) % 10 < 8, 'medium', 'high') AS v
    FROM numbers(${PEOPLE}) WHERE cityHash64(number, 14) % 100 < 90)`;

/**
 * Loads `events` events of `people` people (with their merges and tags)
 * into `warehouse` unless at least `events` events are there already (a kept
 * data dir). Returns the seconds it took (0 when skipped).
 */
export async function loadAudienceData(warehouse, { events, people }) {
  const [have] = await warehouse.query('SELECT count() AS n FROM events');
  if (Number(have.n) >= events) return 0;
  const t = performance.now();
  for (const x of ['events', 'person_overrides', 'person_tags'])
    await warehouse.command(`TRUNCATE TABLE ${x}`);
  await warehouse.command(generatorSql(events, people));
  await warehouse.command(overridesSql(people));
  await warehouse.command(tagsSql(people));
  return (performance.now() - t) / 1000;
}
