/**
 * Client IP selection and IP anonymisation.
 *
 * Addresses are parsed by hand (no `node:net`) so the module stays a pure
 * function of its input. Output is canonical text: dotted IPv4, RFC 5952
 * IPv6 (lower case, longest zero run compressed), and IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, as dual-stack sockets report IPv4 peers) as plain IPv4.
 */

/** What to store of a client IP. */
export const IP_POLICIES = ['keep', 'strip_last_octet', 'drop'] as const;

/**
 * - `keep`: the canonical address;
 * - `strip_last_octet`: IPv4 with the last octet zeroed (`1.2.3.0`), IPv6
 *   with the last 80 bits zeroed (`2001:db8:1::`), as Google Analytics does;
 * - `drop`: no address.
 */
export type IpPolicy = (typeof IP_POLICIES)[number];

/** A parsed address. */
export type ParsedIp =
  | { readonly version: 4; readonly octets: readonly number[] }
  | { readonly version: 6; readonly groups: readonly number[] };

/** Request headers as Node and Fastify expose them (any name case). */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

const V6_GROUP = /^[0-9a-f]{1,4}$/i;
const BRACKETED_PORT = /^:\d{1,5}$/;
const V4_WITH_PORT = /^[\d.]+:\d{1,5}$/;
const MAX_IP_TEXT = 100;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/**
 * Dotted-quad IPv4: four decimal octets of 0-255. Leading zeros are refused
 * (`010.0.0.1`): some parsers read them as octal. Scanned by hand, as every
 * request goes through here.
 */
function parseV4(s: string): number[] | undefined {
  const octets: number[] = [];
  let octet = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i += 1) {
    const code = i === s.length ? DOT : s.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || octets.length === 4) return undefined;
      octets.push(octet);
      octet = 0;
      digits = 0;
    } else if (code >= ZERO && code <= NINE) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (code - ZERO);
      digits += 1;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return octets.length === 4 ? octets : undefined;
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return [];
  const groups: number[] = [];
  for (const part of s.split(':')) {
    if (!V6_GROUP.test(part)) return undefined;
    groups.push(Number.parseInt(part, 16));
  }
  return groups;
}

function parseV6(input: string): number[] | undefined {
  let s = input;
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseV4(tail);
    if (v4 === undefined) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = v4;
    s = `${s.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const rest = parseGroups(halves[1] ?? '');
    if (head === undefined || rest === undefined || head.length + rest.length > 7) return undefined;
    return [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  }
  const groups = parseGroups(s);
  return groups !== undefined && groups.length === 8 ? groups : undefined;
}

/**
 * Parses an IPv4 or IPv6 address. Tolerates what proxies and sockets add:
 * surrounding spaces, `[v6]` and `[v6]:port`, `v4:port`, and an IPv6 zone
 * (`fe80::1%eth0`). IPv4-mapped IPv6 comes back as IPv4.
 *
 * @returns the address, or `undefined` for anything else.
 */
export function parseIp(value: unknown): ParsedIp | undefined {
  if (typeof value !== 'string') return undefined;
  let s = value.trim();
  if (s === '' || s.length > MAX_IP_TEXT) return undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end === -1) return undefined;
    const after = s.slice(end + 1);
    if (after !== '' && !BRACKETED_PORT.test(after)) return undefined;
    s = s.slice(1, end);
  } else if (s.includes(':') && V4_WITH_PORT.test(s)) {
    s = s.slice(0, s.indexOf(':'));
  }
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (!s.includes(':')) {
    const octets = parseV4(s);
    return octets === undefined ? undefined : { version: 4, octets };
  }
  const groups = parseV6(s);
  if (groups === undefined) return undefined;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isMapped) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return { version: 4, octets: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff] };
  }
  return { version: 6, groups };
}

/** Canonical text of a parsed address (RFC 5952 for IPv6). */
export function formatIp(ip: ParsedIp): string {
  if (ip.version === 4) {
    const [a, b, c, d] = ip.octets;
    // Same text as `octets.join('.')`, without the join's cost.
    return ip.octets.length === 4 ? `${a}.${b}.${c}.${d}` : ip.octets.join('.');
  }
  const { groups } = ip;
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (part: readonly number[]): string => part.map((g) => g.toString(16)).join(':');
  if (bestStart === -1) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/**
 * Canonical text of an address (see {@link parseIp} for what is tolerated).
 *
 * @returns the address, or `undefined` when `value` is not an IP address.
 */
export function normalizeIp(value: unknown): string | undefined {
  const ip = parseIp(value);
  return ip === undefined ? undefined : formatIp(ip);
}

/**
 * Applies an IP policy to a client address.
 *
 * @returns the address to store, or `null` for `drop` and for values that are
 * not IP addresses (the column never holds garbage).
 */
export function applyIpPolicy(ip: unknown, policy: IpPolicy): string | null {
  if (policy === 'drop') return null;
  const parsed = parseIp(ip);
  return parsed === undefined ? null : applyIpPolicyToParsed(parsed, policy);
}

/**
 * {@link applyIpPolicy} for an address parsed with {@link parseIp} (saves
 * parsing it twice).
 */
export function applyIpPolicyToParsed(parsed: ParsedIp, policy: IpPolicy): string | null {
  if (policy === 'drop') return null;
  if (policy === 'keep') return formatIp(parsed);
  if (parsed.version === 4) {
    const [a, b, c] = parsed.octets;
    return `${a}.${b}.${c}.0`;
  }
  // Keep the first 48 bits (three groups), zero the last 80.
  return formatIp({ version: 6, groups: [...parsed.groups.slice(0, 3), 0, 0, 0, 0, 0] });
}

function header(headers: HeaderBag, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : headers[key];
  }
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

/**
 * The client's address for a request.
 *
 * - `trustProxy` `false` (or `0`): the socket address; `X-Forwarded-For` is
 *   ignored, since any client can send it.
 * - `true`: the first valid `X-Forwarded-For` entry (the original client as
 *   the first proxy recorded it), else the socket address.
 * - a number `n`: `n` proxies in front of the service are trusted, so the
 *   client is the `n`-th address counting back from the socket
 *   (Express/Fastify semantics); with fewer entries, the leftmost one.
 *
 * Several `X-Forwarded-For` headers count as one comma-joined list.
 *
 * @returns the canonical address (see {@link normalizeIp}), or `null`.
 */
export function clientIp(
  headers: HeaderBag,
  socketIp: unknown,
  trustProxy: boolean | number,
): string | null {
  const socket = normalizeIp(socketIp) ?? null;
  const hops =
    trustProxy === true
      ? Number.POSITIVE_INFINITY
      : trustProxy === false
        ? 0
        : Math.floor(trustProxy);
  if (!(hops > 0)) return socket;
  const forwarded = (header(headers, 'x-forwarded-for') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (forwarded.length === 0) return socket;
  if (hops === Number.POSITIVE_INFINITY) {
    for (const entry of forwarded) {
      const ip = normalizeIp(entry);
      if (ip !== undefined) return ip;
    }
    return socket;
  }
  const chain = [...forwarded].reverse();
  const picked = chain[Math.min(hops, chain.length) - 1];
  return normalizeIp(picked) ?? socket;
}
