/**
 * Host-name helpers shared by campaign extraction and channel classification.
 *
 * Pure string work: no DNS, no public-suffix download. The registrable-domain
 * rule is a heuristic (see {@link registrableDomain}).
 */

/**
 * Second-level labels that, under a two-letter country TLD, form a public
 * suffix of their own (`co.uk`, `com.au`, `ne.jp`, `com.tr`, ...).
 */
export const COUNTRY_SECOND_LEVEL_LABELS: ReadonlySet<string> = new Set([
  'ac',
  'co',
  'com',
  'edu',
  'gob',
  'go',
  'gov',
  'ltd',
  'mil',
  'ne',
  'net',
  'nic',
  'or',
  'org',
  'plc',
  'sch',
]);

const HOST_CHARS = /^[a-z0-9._-]+$/;
const IPV4_LIKE = /^\d{1,3}(?:\.\d{1,3}){3}$/;
const MAX_HOST_LENGTH = 253;

/**
 * Normalises something that should be a host name: lower-cases, trims, takes
 * the host out of a full URL, drops a port, a trailing dot, IPv6 brackets and a
 * leading `www.`.
 *
 * @returns the bare host, or `undefined` for anything that is not a plausible
 * host (non-strings, empty strings, spaces, over-long values).
 */
export function normalizeHost(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let host = value.trim().toLowerCase();
  if (host === '') return undefined;
  if (host.includes('/')) {
    const absolute = host.startsWith('//')
      ? `http:${host}`
      : host.includes('://')
        ? host
        : `http://${host}`;
    const fromUrl = hostOfUrl(absolute);
    if (fromUrl === undefined) return undefined;
    host = fromUrl;
  }
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 1 ? host.slice(1, end) : undefined;
  }
  const colon = host.indexOf(':');
  if (colon !== -1) {
    // One colon is host:port; more than one is a bare IPv6 address.
    if (host.indexOf(':', colon + 1) !== -1) return host;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return bareHost(host);
}

/**
 * The last step of {@link normalizeHost}, for a host that is already
 * lower-case and trimmed, without a path, port, brackets or trailing dot:
 * drops a leading `www.` and checks what is left.
 */
function bareHost(host: string): string | undefined {
  const bare = host.startsWith('www.') ? host.slice(4) : host;
  if (bare === '' || bare.length > MAX_HOST_LENGTH || !HOST_CHARS.test(bare)) return undefined;
  if (bare.startsWith('.') || bare.includes('..')) return undefined;
  return bare;
}

/**
 * The host of an absolute URL (any scheme with an authority, so
 * `android-app://com.google.android.googlequicksearchbox/` works too).
 *
 * @returns the lower-cased host without `www.`, or `undefined` when the value
 * is not a string, not an absolute URL, or has no host (`about:blank`).
 */
export function hostOfUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = value.trim();
  if (url === '') return undefined;
  // normalizeHost would change nothing in a plain host but its `www.`.
  const plain = plainHttpHost(url);
  if (plain !== undefined) return bareHost(plain);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = parsed.hostname;
  if (host === '') return undefined;
  return normalizeHost(host);
}

/**
 * An `http://` or `https://` URL whose host is nothing but lower-case ASCII
 * letters, digits, `.` and `-`, up to the path, query or fragment. (No nested
 * quantifiers: it runs in linear time on any input.)
 */
const PLAIN_HTTP_URL = /^https?:\/\/([a-z0-9.-]+)(?:[/?#]|$)/;

/**
 * The host of a URL matching {@link PLAIN_HTTP_URL}, read without `new URL()`
 * (the WHATWG parser is the costliest step of enrichment, and nearly every
 * page URL and referrer has this shape). For such a host `new URL()` gives the
 * same `hostname`, whatever follows it.
 *
 * @returns `undefined`, leaving the URL to the WHATWG parser, whenever it
 * might read the host differently or reject it: anything outside the pattern
 * (user info, a port, upper case, escapes, backslashes, an empty host), a
 * trailing dot, a last label starting with a digit (IPv4 forms such as
 * `1.2.3.4` or `0x7f.1`) and punycode (`xn--`, which it validates).
 */
function plainHttpHost(url: string): string | undefined {
  const host = PLAIN_HTTP_URL.exec(url)?.[1];
  if (host === undefined) return undefined;
  const lastLabelAt = host.lastIndexOf('.') + 1;
  if (lastLabelAt === host.length || isDigit(host.charCodeAt(lastLabelAt))) return undefined;
  return host.includes('xn--') ? undefined : host;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * The labels of a host split into the part a registrant controls and the rest.
 */
export interface HostParts {
  /** The label directly left of the public suffix: `google` in `www.google.co.uk`. */
  readonly label: string;
  /** `label` plus the public suffix: `google.co.uk`. */
  readonly domain: string;
  /** Labels left of `label`, joined: `www` (or `''`). */
  readonly subdomain: string;
}

/**
 * Splits a normalised host into subdomain / registrable label / suffix using a
 * small heuristic instead of the Public Suffix List: the suffix is the last
 * label, or the last two when they look like `co.uk` / `com.au` (see
 * {@link COUNTRY_SECOND_LEVEL_LABELS}). Private suffixes such as `github.io`
 * are not known, so `a.github.io` and `b.github.io` count as one site.
 *
 * @returns `undefined` for single-label hosts and IP addresses.
 */
export function hostParts(host: string): HostParts | undefined {
  if (IPV4_LIKE.test(host) || host.includes(':')) return undefined;
  const labels = host.split('.');
  if (labels.length < 2) return undefined;
  const tld = labels[labels.length - 1] ?? '';
  const second = labels[labels.length - 2] ?? '';
  const twoPartSuffix =
    labels.length >= 3 && tld.length === 2 && COUNTRY_SECOND_LEVEL_LABELS.has(second);
  const labelIndex = labels.length - (twoPartSuffix ? 3 : 2);
  const label = labels[labelIndex] ?? '';
  return {
    label,
    domain: labels.slice(labelIndex).join('.'),
    subdomain: labels.slice(0, labelIndex).join('.'),
  };
}

/**
 * The registrable domain of a host (`shop.example.co.uk` → `example.co.uk`),
 * or the host itself for IPs and single-label hosts. Same heuristic as
 * {@link hostParts}.
 */
export function registrableDomain(host: string): string {
  return hostParts(host)?.domain ?? host;
}

/**
 * Whether two hosts belong to the same site (same registrable domain).
 * Either side may be anything; non-hosts never match.
 */
export function isSameSite(a: unknown, b: unknown): boolean {
  const ha = normalizeHost(a);
  const hb = normalizeHost(b);
  if (ha === undefined || hb === undefined) return false;
  return registrableDomain(ha) === registrableDomain(hb);
}
