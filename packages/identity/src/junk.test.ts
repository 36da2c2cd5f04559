import { describe, expect, it } from 'vitest';
import { junkReason } from './junk.js';

const none = new Set<string>();

describe('junkReason', () => {
  it.each([
    ['', 'junk_empty'],
    ['   ', 'junk_empty'],
    ['\t\n', 'junk_empty'],
    ['""', 'junk_empty'],
    ["' '", 'junk_empty'],
    ['null', 'junk_placeholder'],
    ['NULL', 'junk_placeholder'],
    ['  Null ', 'junk_placeholder'],
    ['"null"', 'junk_placeholder'],
    ["'null'", 'junk_placeholder'],
    ['`undefined`', 'junk_placeholder'],
    ['"\'none\'"', 'junk_placeholder'],
    ['undefined', 'junk_placeholder'],
    ['None', 'junk_placeholder'],
    ['NaN', 'junk_placeholder'],
    ['0', 'junk_placeholder'],
    ["'0'", 'junk_placeholder'],
    ['-1', 'junk_placeholder'],
    ['"-1"', 'junk_placeholder'],
    ['[object Object]', 'junk_placeholder'],
    ['true', 'junk_placeholder'],
    ['FALSE', 'junk_placeholder'],
    ['anonymous', 'junk_placeholder'],
    ['Anonymous', 'junk_placeholder'],
    ['guest', 'junk_placeholder'],
    ['GUEST', 'junk_placeholder'],
    ['id', 'junk_placeholder'],
    ['ID', 'junk_placeholder'],
    ['00000000-0000-0000-0000-000000000000', 'junk_zeros'],
    ['"00000000-0000-0000-0000-000000000000"', 'junk_zeros'],
    ['0000', 'junk_zeros'],
    ['00-00', 'junk_zeros'],
    ['---', 'junk_zeros'],
  ] as const)('%j is junk (%s)', (value, reason) => {
    expect(junkReason(value, none)).toBe(reason);
  });

  it.each([
    'u-1',
    '1',
    '10',
    '00000000-0000-0000-0000-000000000001',
    'nullable',
    'guest-42',
    'identity',
    '"u-1"',
    'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  ])('%j is not junk', (value) => {
    expect(junkReason(value, none)).toBeUndefined();
  });

  it('applies the block list trimmed and case-insensitively, quoted or not', () => {
    const blocked = new Set(['test-device', 'info@example.com']);
    expect(junkReason('Test-Device', blocked)).toBe('junk_block_list');
    expect(junkReason(' "test-device" ', blocked)).toBe('junk_block_list');
    expect(junkReason('INFO@example.com ', blocked)).toBe('junk_block_list');
    expect(junkReason('test-device-2', blocked)).toBeUndefined();
  });
});
