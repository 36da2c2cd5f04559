import { describe, expect, it } from 'vitest';
import { withoutOneId } from './resolver.js';

describe('withoutOneId', () => {
  it.each([
    ['{"oneId":"p1","schemaVersion":1}', '{"schemaVersion":1}'],
    ['{"oneId":"","schemaVersion":1}', '{"schemaVersion":1}'],
    ['{"schemaVersion":1,"oneId":"p1"}', '{"schemaVersion":1,"oneId":"p1"}'],
    ['{"oneId":"a\\"b","x":1}', '{"x":1}'],
  ])('%s', (input, expected) => {
    expect(withoutOneId(input)).toBe(expected);
  });
});
