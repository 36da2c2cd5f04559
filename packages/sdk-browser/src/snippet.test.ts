import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { snippet } from './snippet.js';
import { VERSION } from './version.js';

interface FakeScript {
  async?: number;
  src?: string;
  attrs: Record<string, string>;
  setAttribute(k: string, v: string): void;
}

/** Runs a snippet against a fake window and document. */
function run(
  code: string,
  w: Record<string, unknown> = {},
): { w: Record<string, unknown>; scripts: FakeScript[] } {
  const scripts: FakeScript[] = [];
  const doc = {
    createElement: (): FakeScript => ({
      attrs: {},
      setAttribute(k, v) {
        this.attrs[k] = v;
      },
    }),
    getElementsByTagName: () => [
      { parentNode: { insertBefore: (s: FakeScript) => void scripts.push(s) } },
    ],
  };
  runInNewContext(code, { window: w, document: doc });
  return { w, scripts };
}

type Stub = unknown[] & Record<string, (...a: unknown[]) => unknown>;

describe('snippet', () => {
  it('queues calls with their time, loads the script async from host + path, and calls page()', () => {
    const before = Date.now();
    const { w, scripts } = run(snippet({ host: 'https://c.example/', writeKey: 'wk_1' }));
    const stub = w['cdp'] as Stub;
    stub['track']!('Signed Up', { plan: 'pro' });
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatchObject({
      async: 1,
      src: 'https://c.example/s/c.js',
      attrs: { 'data-global': 'cdp' },
    });
    expect([...stub]).toEqual([
      ['load', ['wk_1', { host: 'https://c.example' }], expect.any(Number)],
      ['page', [], expect.any(Number)],
      ['track', ['Signed Up', { plan: 'pro' }], expect.any(Number)],
    ]);
    expect((stub[0] as [string, unknown, number])[2]).toBeGreaterThanOrEqual(before);
  });

  it('takes a path, a global name, load options, and can skip the first page()', () => {
    const { w, scripts } = run(
      snippet({
        host: 'c.example',
        writeKey: 'wk',
        path: '/x/y.js',
        globalName: 'acme',
        page: false,
        options: { batch: { size: 5 }, consent: { required: true } },
      }),
    );
    expect(scripts[0]).toMatchObject({
      src: 'https://c.example/x/y.js',
      attrs: { 'data-global': 'acme' },
    });
    expect([...(w['acme'] as Stub)]).toEqual([
      [
        'load',
        ['wk', { batch: { size: 5 }, consent: { required: true }, host: 'https://c.example' }],
        expect.any(Number),
      ],
    ]);
    expect(w['cdp']).toBeUndefined();
  });

  it('runs once per page, and leaves a loaded SDK alone', () => {
    const code = snippet({ host: 'https://c.example', writeKey: 'wk' });
    const { w, scripts } = run(code);
    run(code, w);
    expect(scripts).toHaveLength(1);
    const loaded = { load: () => undefined };
    const again = run(code, { cdp: loaded });
    expect(again.w['cdp']).toBe(loaded);
    expect(again.scripts).toHaveLength(0);
  });

  it('cannot be broken out of by its values', () => {
    const code = snippet({
      host: 'https://c.example',
      writeKey: '</script><script>alert(1)</script>\u2028',
    });
    expect(code).not.toMatch(/<\/script/i);
    expect(code).not.toContain('\u2028');
    const { w } = run(code);
    expect((w['cdp'] as Stub)[0]).toEqual([
      'load',
      ['</script><script>alert(1)</script>\u2028', { host: 'https://c.example' }],
      expect.any(Number),
    ]);
  });
});

describe('version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
  });
});
