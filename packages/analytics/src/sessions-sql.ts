/**
 * Sessionisation shared by attribution and channel paths, as SQL fragments.
 * A person's touch events, sorted by time, start a new session (touchpoint)
 * after {@link DEFAULT_SESSION_GAP_MS} of inactivity or when a new campaign or
 * referrer starts: the event's campaign key is set and differs from the
 * previous event's. A session's channel is its first event's.
 *
 * Speed: every touch event becomes one `UInt128` (time in ms in the high 64
 * bits, then whether it has no campaign key, its channel number and a 48-bit
 * campaign-key hash), so the
 * per-person `groupArray` is fixed-width and `arraySort` orders by time
 * without tuples or strings; session starts are found by comparing each
 * element with a shifted copy of the array instead of indexing into it from a
 * lambda (which copies the whole array per element). Together that made
 * attribution faster when it came in (the old form is gone, so no bench
 * compares them; bench/analytics-e2e.mjs times this one, figures in
 * bench/FIGURES.md).
 */

/** Inactivity that ends a session: 30 minutes. */
export const DEFAULT_SESSION_GAP_MS = 30 * 60 * 1000;

const KEY_BITS = '281474976710655'; // 2^48 - 1
/** Before any event time (and far from Int64 overflow when subtracted). */
export const NO_TIME = 'toInt64(-4611686018427387904)';
const SIGN_BIT = '9223372036854775808';

/**
 * An event's epoch ms in the high 64 bits of a `UInt128`, sign bit flipped so
 * that times before 1970 still sort first. Read it back with {@link unpackedMsSql}.
 */
export const PACKED_MS_SQL = `bitShiftLeft(toUInt128(bitXor(reinterpretAsUInt64(toUnixTimestamp64Milli(timestamp)), ${SIGN_BIT})), 64)`;

/** The epoch ms (`Int64`) of a value built on {@link PACKED_MS_SQL}. */
export const unpackedMsSql = (x: string): string =>
  `reinterpretAsInt64(bitXor(toUInt64(bitShiftRight(${x}, 64)), ${SIGN_BIT}))`;

/**
 * An event's campaign key as a non-zero 48-bit hash: of its UTM
 * source/medium/campaign when any is set, else of the referring host when the
 * referrer is on another host than the page; `0` when there is none (internal
 * navigation or direct). Two different keys share a hash with odds of 2^-47.
 */
export const CAMPAIGN_KEY_HASH_SQL = `multiIf(
  utm_source != '' OR utm_medium != '' OR utm_campaign != '',
    bitOr(bitAnd(cityHash64('utm', utm_source, utm_medium, utm_campaign), ${KEY_BITS}), 1),
  referrer != '' AND domainWithoutWWW(referrer) != '' AND domainWithoutWWW(referrer) != domainWithoutWWW(page_url),
    bitOr(bitAnd(cityHash64('ref', domainWithoutWWW(referrer)), ${KEY_BITS}), 1),
  toUInt64(0))`;

/** Event types that can be touches or path steps (not identify/alias/group). */
export const TOUCH_TYPES_SQL = `type IN ('page', 'screen', 'track')`;

/**
 * One touch event packed in a `UInt128`: epoch ms << 64 | no-campaign-key
 * flag << 56 | channel << 48 | campaign-key hash. Events of the same
 * millisecond sort with the landing (keyed) ones first, so internal
 * navigation logged at the landing's millisecond does not start a session of
 * its own. `channelIndex` is a `UInt8` expression (channel-rules).
 */
export function packedTouchSql(channelIndex: string): string {
  return `bitOr(${PACKED_MS_SQL},
        bitOr(bitShiftLeft(toUInt128((${CAMPAIGN_KEY_HASH_SQL}) = 0), 56),
        bitOr(bitShiftLeft(toUInt128(${channelIndex}), 48), toUInt128(${CAMPAIGN_KEY_HASH_SQL}))))`;
}

/** `arr` shifted right by one, same length, `fill` first (`[a, b, c]` -> `[fill, a, b]`). */
export const shiftedSql = (arr: string, fill: string): string =>
  `arraySlice(arrayPushFront(${arr}, ${fill}), 1, length(${arr}))`;

/**
 * The sessions of a person from `packed`, a time-sorted array of
 * {@link packedTouchSql} values: an array of `(startMs Int64, channel UInt8)`.
 * Reads the `{sessionGapMs:Int64}` parameter. `name` prefixes the helper
 * aliases it defines (`${name}_ts`, `${name}_keys`).
 */
export function sessionsSql(packed: string, name: string): string {
  const ts = `${name}_ts`;
  const keys = `${name}_keys`;
  return `arrayMap(x -> (${unpackedMsSql('x')}, toUInt8(bitAnd(bitShiftRight(toUInt64(x), 48), 255))),
        arrayFilter((x, t, pt, k, pk) -> t - pt > {sessionGapMs:Int64} OR (k != 0 AND k != pk),
          ${packed},
          arrayMap(x -> ${unpackedMsSql('x')}, ${packed}) AS ${ts}, ${shiftedSql(ts, NO_TIME)},
          arrayMap(x -> bitAnd(toUInt64(x), ${KEY_BITS}), ${packed}) AS ${keys}, ${shiftedSql(keys, 'toUInt64(0)')}))`;
}

/** `[lo, hi)` on `timestamp`, from the `{loMs:Int64}` and `{hiMs:Int64}` parameters. */
export const TIME_RANGE_SQL = `timestamp >= fromUnixTimestamp64Milli({loMs:Int64}, 'UTC')
    AND timestamp < fromUnixTimestamp64Milli({hiMs:Int64}, 'UTC')`;
