import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fcParameters } from '@cdp/testkit';
import { parseJsonBody, replaceLoneSurrogates } from './parse-body.js';

/** The string with every unpaired surrogate replaced by U+FFFD (String#toWellFormed). */
function wellFormed(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s.slice(i, i + 2);
        i++;
      } else out += '\ufffd';
    } else if (c >= 0xdc00 && c <= 0xdfff) out += '\ufffd';
    else out += s[i];
  }
  return out;
}

const isWellFormed = (s: string): boolean => wellFormed(s) === s;
const body = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('lone surrogates in request bodies', () => {
  it.each([
    ['{"userId":"x\\ud800","event":"E"}', 'x\ufffd'],
    ['{"userId":"x\\uDC00y"}', 'x\ufffdy'],
    ['{"userId":"\\ud83d\\ude00"}', '\u{1f600}'],
    ['{"userId":"\\udc00\\ud800"}', '\ufffd\ufffd'],
    ['{"userId":"\\\\ud800"}', '\\ud800'],
    ['{"userId":"\\\\\\ud800"}', '\\\ufffd'],
    ['{"userId":"plain"}', 'plain'],
  ])('%s decodes to a well-formed string', (text, userId) => {
    expect(parseJsonBody(body(text))['userId']).toBe(userId);
  });

  it('leaves a body without surrogate escapes as it is (the fast path)', () => {
    const text = '{"event":"Order Completed","properties":{"note":"\\\\u00e9 \\n"}}';
    expect(replaceLoneSurrogates(text)).toBe(text);
  });

  it('any string a client serialises decodes to it, with unpaired surrogates as U+FFFD', () => {
    const units = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({
        unit: fc.constantFrom(
          '\ud800',
          '\udbff',
          '\udc00',
          '\udfff',
          '\\',
          'u',
          'a',
          '"',
          '\u{1f600}',
        ),
      }),
    );
    fc.assert(
      fc.property(units, fc.dictionary(fc.string(), units, { maxKeys: 3 }), (v, props) => {
        const parsed = parseJsonBody(body(JSON.stringify({ userId: v, properties: props })));
        expect(parsed['userId']).toBe(wellFormed(v));
        expect(isWellFormed(parsed['userId'] as string)).toBe(true);
        const got = parsed['properties'] as Record<string, string>;
        for (const [k, x] of Object.entries(props)) expect(got[wellFormed(k)]).toBe(wellFormed(x));
      }),
      fcParameters({ numRuns: 500 }),
    );
  });
});
