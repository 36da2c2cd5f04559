import { describe, expect, it } from 'vitest';
import { chunk, MAX_BODY_BYTES, utf8Length } from './chunk.js';
import { batchBody } from './transport.js';

describe('utf8Length', () => {
  it.each(['', 'abc', 'é', '€', '😀', 'a😀é€z', '\ud800', 'x\udc00y'])('%j', (s) => {
    // Lone surrogates become U+FFFD (3 bytes) when encoded: counting them as 3 or 4 is safe.
    expect(utf8Length(s)).toBeGreaterThanOrEqual(new TextEncoder().encode(s).length);
    if (!/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('chunk', () => {
  const size = (s: string): number => utf8Length(s);

  it.each([
    { items: [], maxItems: 20, maxBytes: 100, overhead: 10, expected: [] },
    {
      items: ['a', 'b', 'c'],
      maxItems: 2,
      maxBytes: 100,
      overhead: 0,
      expected: [['a', 'b'], ['c']],
    },
    // 10 overhead + 'aaaa' + ',' + 'bbbb' = 19 fits 19; the third does not.
    {
      items: ['aaaa', 'bbbb', 'cccc'],
      maxItems: 9,
      maxBytes: 19,
      overhead: 10,
      expected: [['aaaa', 'bbbb'], ['cccc']],
    },
    {
      items: ['aaaa', 'bbbb'],
      maxItems: 9,
      maxBytes: 18,
      overhead: 10,
      expected: [['aaaa'], ['bbbb']],
    },
    // Too big alone: a chunk of its own, order kept.
    {
      items: ['a', 'x'.repeat(50), 'b'],
      maxItems: 9,
      maxBytes: 20,
      overhead: 0,
      expected: [['a'], ['x'.repeat(50)], ['b']],
    },
  ])(
    '$items.length items, max $maxItems / $maxBytes B',
    ({ items, maxItems, maxBytes, overhead, expected }) => {
      expect(chunk(items, size, maxItems, maxBytes, overhead)).toEqual(expected);
    },
  );

  it('keeps every request body under 64 KB, multi-byte text included', () => {
    const events = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ messageId: `m${i}`, properties: { text: 'é€😀'.repeat(60 + (i % 40)) } }),
    );
    const sentAt = new Date(0).toISOString();
    const overhead = utf8Length(batchBody([], 'wk', sentAt));
    const chunks = chunk(events, utf8Length, 1000, MAX_BODY_BYTES, overhead);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.flat()).toEqual(events);
    for (const c of chunks) {
      const bytes = new TextEncoder().encode(batchBody(c, 'wk', sentAt)).length;
      expect(bytes).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(bytes).toBeLessThan(64 * 1024);
    }
    // Greedy: each chunk but the last could not take the next event.
    for (let i = 0; i < chunks.length - 1; i++) {
      const next = chunks[i + 1]![0]!;
      const grown = new TextEncoder().encode(batchBody([...chunks[i]!, next], 'wk', sentAt)).length;
      expect(grown).toBeGreaterThan(MAX_BODY_BYTES);
    }
  });
});
