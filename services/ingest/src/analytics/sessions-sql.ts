/**
 * Sessionisation shared by attribution and channel paths, as SQL fragments.
 * A person's touch events, sorted by time, start a new session (touchpoint)
 * after {@link DEFAULT_SESSION_GAP_MS} of inactivity or when a new campaign or
 * referrer starts: the event's campaign key is not empty and differs from the
 * previous event's. A session's channel is its first event's.
 */

/** Inactivity that ends a session: 30 minutes. */
export const DEFAULT_SESSION_GAP_MS = 30 * 60 * 1000;

/**
 * An event's campaign key: its UTM source/medium/campaign when any is set,
 * else the referring host when the referrer is on another host than the page,
 * else `''` (internal navigation or direct).
 */
export const CAMPAIGN_KEY_SQL = `multiIf(
  utm_source != '' OR utm_medium != '' OR utm_campaign != '',
    concat('utm:', utm_source, '|', utm_medium, '|', utm_campaign),
  referrer != '' AND domainWithoutWWW(referrer) != '' AND domainWithoutWWW(referrer) != domainWithoutWWW(page_url),
    concat('ref:', domainWithoutWWW(referrer)),
  '')`;

/** Event types that can be touches or path steps (not identify/alias/group). */
export const TOUCH_TYPES_SQL = `type IN ('page', 'screen', 'track')`;

/**
 * The elements of `arr` (time-sorted tuples whose `.1` is epoch ms and whose
 * `.{keyIndex}` is the campaign key) that start a session. Reads the
 * `{sessionGapMs:Int64}` parameter.
 */
export function sessionStartsSql(arr: string, keyIndex: number): string {
  const k = `.${keyIndex}`;
  return `arrayFilter((e, i) -> i = 1 OR e.1 - ${arr}[i - 1].1 > {sessionGapMs:Int64}
      OR (e${k} != '' AND e${k} != ${arr}[i - 1]${k}), ${arr}, arrayEnumerate(${arr}))`;
}

/** `[lo, hi)` on `timestamp`, from the `{loMs:Int64}` and `{hiMs:Int64}` parameters. */
export const TIME_RANGE_SQL = `timestamp >= fromUnixTimestamp64Milli({loMs:Int64}, 'UTC')
    AND timestamp < fromUnixTimestamp64Milli({hiMs:Int64}, 'UTC')`;
