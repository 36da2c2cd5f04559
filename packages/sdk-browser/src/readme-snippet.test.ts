import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { snippet } from './snippet.js';

describe('the snippet in the project README', () => {
  it('is what snippet() generates, so copy-paste users get the real thing', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('<script>\n!function');
    expect(start).toBeGreaterThan(0);
    const end = readme.indexOf('</script>', start);
    const shown = readme.slice(start + '<script>\n'.length, end).replaceAll('\n', '');
    expect(shown).toBe(snippet({ host: 'https://cdp.example.com', writeKey: 'YOUR_WRITE_KEY' }));
  });
});
