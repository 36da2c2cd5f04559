import { isUtf8 } from 'node:buffer';
import { CdpError } from '@cdp/core';

/** Deepest object/array nesting an event may have (Segment's own limit is similar). */
export const DEFAULT_MAX_DEPTH = 32;

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const ESCAPES = /(\\+)u([dD][89a-fA-F][0-9a-fA-F]{2})(\\u[dD][c-fC-F][0-9a-fA-F]{2})?/g;

/**
 * JSON text with every unpaired UTF-16 surrogate escape (`"x\ud800"`)
 * replaced by U+FFFD, so each string decodes to well-formed Unicode. Valid
 * UTF-8 cannot carry a lone surrogate, so in a body they come only as
 * escapes; one left in would be refused later by ClickHouse ("missing
 * second part of surrogate pair") and stop the consumer that wrote it.
 * Pairs and escaped backslashes (`"\\ud800"`, literal text) are kept.
 * Without any surrogate escape (almost every body) the text is returned as is.
 */
export function replaceLoneSurrogates(text: string): string {
  if (!SURROGATE_ESCAPE.test(text)) return text;
  return text.replace(ESCAPES, (all, slashes: string, hex: string, low: string | undefined) => {
    // An even run of backslashes is literal backslashes: no escape here.
    if (slashes.length % 2 === 0) return all;
    const isHigh = /^[dD][89abAB]/.test(hex);
    if (isHigh && low !== undefined) return all;
    return `${slashes.slice(1)}\\ufffd${low !== undefined ? '\\ufffd' : ''}`;
  });
}

const LONG_NUMBER = /\d{16}/;
const ID_NUMBER = /("(?:userId|anonymousId|groupId|previousId)"\s*:\s*)(-?\d{16,})(?=\s*[,}\]])/g;

/**
 * JSON text with identity fields (`userId`, `anonymousId`, `groupId`,
 * `previousId`) sent as integers beyond 2^53 turned into strings with the
 * digits as sent: `JSON.parse` would round `12345678901234567890` to
 * `12345678901234567000`, and nearby ids would merge into one person. Only a
 * key right after an unescaped quote matches, so text inside strings is left.
 */
export function quoteBigIdNumbers(text: string): string {
  if (!LONG_NUMBER.test(text)) return text;
  return text.replace(ID_NUMBER, (all, key: string, digits: string) =>
    Number.isSafeInteger(Number(digits)) ? all : `${key}"${digits}"`,
  );
}

/**
 * Decodes a request body: valid UTF-8, valid JSON, a JSON object; unpaired
 * surrogates become U+FFFD (see {@link replaceLoneSurrogates}), identity
 * fields sent as big integers keep their digits ({@link quoteBigIdNumbers}). Throws a
 * `CdpError` naming what is wrong; never returns partial data.
 */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (!isUtf8(body)) throw new CdpError('CDP_ERR_INGEST_INVALID_UTF8', { field: 'body' });
  let value: unknown;
  try {
    value = JSON.parse(quoteBigIdNumbers(replaceLoneSurrogates(body.toString('utf8'))));
  } catch (e) {
    throw new CdpError('CDP_ERR_INGEST_MALFORMED_JSON', {
      field: 'body',
      message: `The body is not valid JSON: ${(e as Error).message}`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CdpError('CDP_ERR_EVENT_INVALID_TYPE', {
      field: 'body',
      message: 'The body must be a JSON object',
    });
  }
  return value as Record<string, unknown>;
}

/** Depth of the deepest nesting in a parsed JSON value, stopping early past `limit`. */
export function depthExceeds(value: unknown, limit: number): boolean {
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object') return false;
    if (depth > limit) return true;
    if (Array.isArray(v)) {
      for (const x of v) if (walk(x, depth + 1)) return true;
      return false;
    }
    for (const k in v) if (walk((v as Record<string, unknown>)[k], depth + 1)) return true;
    return false;
  };
  return walk(value, 1);
}
