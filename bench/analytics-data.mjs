// The data of bench/analytics-e2e.mjs (also used by bench/sql-variants.mjs):
// generated in ClickHouse, no rows go through Node.
export const START = '2024-01-01 00:00:00';
export const SPAN_DAYS = 60;
export const CHANNELS = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Email',
  'Organic Social',
  'Referral',
  'Display',
  'Affiliates',
];
const PAGES = ['Home', 'Product', 'Cart', 'Checkout'];
export const FUNNEL = [
  'Product Viewed',
  'Product Added',
  'Checkout Started',
  'Payment Info Entered',
  'Order Completed',
];

const arr = (xs) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

// Per event n: person p = n % PEOPLE, k-th event of the person = n / PEOPLE
// (10 each). r picks the kind: 50% page views, then the funnel events, 3%
// Order Completed with revenue 10..209. 20% of people have their first three
// events under a provisional id that OneID later merged (a person_overrides
// row), so attribution and funnels resolve people through the real view.
//
// --data sessions (default): people come back in 1-5 visits (40% one visit
// of 10 events, 25% two of 5, 15% three of 4, 10% four of 3, 10% five of 2),
// two days apart plus up to a day, events a minute apart within a visit.
// Each visit lands from one channel (Direct 30%, Organic Search 25%, Paid
// Search 12%, Email 10%, Organic Social 8%, Referral 7%, Display 5%,
// Affiliates 3%) and all its events carry it, as the SDK keeps the campaign
// for the session; paid channels carry a utm_source.
// --data random-touch: the worst case for attribution: every event has a
// random channel (uniform over the 8), 10 minutes apart plus 0-2 days, so
// almost every event starts a session and most paths are distinct.
/**
 * The SQL that loads the data: `generator` fills `events`, `overrides` adds
 * the OneID merges (`person_overrides`). `data` is `sessions` or `random-touch`.
 */
export function analyticsDataSql({ events, people, data }) {
  if (data !== 'sessions' && data !== 'random-touch')
    throw new Error('--data must be sessions or random-touch');
  const WEIGHTS = [30, 25, 12, 10, 8, 7, 5, 3];
  let acc = 0;
  const weighted = (h) =>
    `multiIf(${CHANNELS.map((c, i) => `${h} < ${(acc += WEIGHTS[i])}, '${c}'`).join(', ')}, 'Direct')`;
  const SOURCES =
    data === 'sessions'
      ? `SELECT n, p, k, r, ${weighted('cityHash64(p, s, 4) % 100')} AS ch,
      cityHash64(p, 1) % ${SPAN_DAYS * 86400} + s * 172800 + cityHash64(p, s, 6) % 86400 + (k % L) * 60 AS sec
    FROM (
      SELECT n, p, k, r, L, intDiv(k, L) AS s FROM (
        SELECT number AS n, number % ${people} AS p, intDiv(number, ${people}) AS k,
          cityHash64(number) % 1000 AS r, cityHash64(p, 5) % 100 AS v,
          multiIf(v < 40, 10, v < 65, 5, v < 80, 4, v < 90, 3, 2) AS L
        FROM numbers(${events})))`
      : `SELECT number AS n, number % ${people} AS p, intDiv(number, ${people}) AS k,
      cityHash64(number) % 1000 AS r, ${arr(CHANNELS)}[cityHash64(number, 4) % ${CHANNELS.length} + 1] AS ch,
      cityHash64(p, 1) % ${SPAN_DAYS * 86400} + k * 600 + (cityHash64(n, 2) % 3) * 86400 AS sec
    FROM numbers(${events})`;
  const generator = `
INSERT INTO events (message_id, source_id, type, event, name, anonymous_id, user_id, one_id,
  group_id, previous_id, timestamp, received_at, clock_skew_flag, channel, utm_source, utm_medium,
  utm_campaign, utm_term, utm_content, page_url, page_path, referrer, ip, user_agent, is_bot,
  properties, traits, context)
SELECT
  toString(n), 'bench', if(r < 500, 'page', 'track'),
  multiIf(r < 500, '', r < 700, '${FUNNEL[0]}', r < 830, '${FUNNEL[1]}', r < 910, '${FUNNEL[2]}', r < 970, '${FUNNEL[3]}', '${FUNNEL[4]}') AS ev,
  if(r < 500, ${arr(PAGES)}[k % 4 + 1], ''),
  concat('a', toString(p)), '', if(p % 5 = 0 AND k < 3, concat('q', toString(p)), concat('p', toString(p))), '', '',
  toDateTime64('${START}', 3, 'UTC') + toIntervalSecond(sec),
  now64(3), '', ch,
  if(ch IN ('Email', 'Paid Search', 'Display', 'Affiliates'), lower(replaceAll(ch, ' ', '_')), ''), '', '', '', '',
  '', '', '', '', '', false,
  if(ev = 'Order Completed', concat('{"revenue":', toString(10 + cityHash64(n, 3) % 200), '}'), '{}'),
  '{}', '{}'
FROM (${SOURCES})`;
  const overrides = `
INSERT INTO person_overrides (from_one_id, into_one_id, reason, version)
SELECT concat('q', toString(number * 5)), concat('p', toString(number * 5)), 'identify', 1
FROM numbers(${Math.ceil(people / 5)})`;
  return { generator, overrides };
}
