import { describe, expect, it } from 'vitest';
import { categoryPreferences, isGranted } from './consent.js';
import { cookieKV, gatedKV, memoryKV, readCookie, serializeCookie, webStorage } from './store.js';

describe('cookies', () => {
  it.each([
    [
      { maxAgeSeconds: 31_536_000, domain: '', secure: false },
      'cdp_aid=a%20b; Max-Age=31536000; Path=/; SameSite=Lax',
    ],
    [
      { maxAgeSeconds: 60, domain: '.example.com', secure: true },
      'cdp_aid=a%20b; Max-Age=60; Path=/; SameSite=Lax; Domain=.example.com; Secure',
    ],
  ])('serializes %j', (o, expected) => {
    expect(serializeCookie('cdp_aid', 'a b', o)).toBe(expected);
  });

  it.each([
    ['', 'x', null],
    ['a=1; x=2; xy=3', 'x', '2'],
    ['xy=3;x=a%20b', 'x', 'a b'],
    ['x=%E0%A4%A', 'x', null],
  ])('reads %j[%s]', (jar, name, expected) => {
    expect(readCookie(jar, name)).toBe(expected);
  });

  it('writes through document.cookie and says whether it stuck', () => {
    const doc = { cookie: '' };
    const kv = cookieKV(doc, { maxAgeSeconds: 10, domain: '', secure: false });
    expect(kv.set('k', 'v')).toBe(true);
    expect(doc.cookie).toBe('k=v; Max-Age=10; Path=/; SameSite=Lax');
  });
});

describe('webStorage', () => {
  it('falls back to memory when storage throws on access', () => {
    const kv = webStorage(() => {
      throw new Error('SecurityError');
    });
    expect(kv.set('a', '1')).toBe(true);
    expect(kv.get('a')).toBe('1');
  });

  it('reports a refused write (quota)', () => {
    const m = new Map<string, string>();
    const full = {
      get length() {
        return m.size;
      },
      key: (i: number) => [...m.keys()][i] ?? null,
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => {
        if (k !== '__cdp_probe') throw new Error('QuotaExceededError');
        m.set(k, v);
      },
      removeItem: (k: string) => void m.delete(k),
    };
    const kv = webStorage(() => full);
    expect(kv.set('a', '1')).toBe(false);
    expect(kv.keys()).toEqual([]);
  });
});

describe('gatedKV', () => {
  it('writes nothing before open, then replays the last writes', () => {
    const inner = memoryKV();
    inner.set('old', 'x');
    const kv = gatedKV(inner, false);
    kv.set('a', '1');
    kv.set('a', '2');
    kv.remove('old');
    expect(inner.keys()).toEqual(['old']);
    expect(kv.get('a')).toBe('2');
    expect(kv.get('old')).toBeNull();
    kv.open();
    expect(inner.get('a')).toBe('2');
    expect(inner.get('old')).toBeNull();
    kv.set('b', '3');
    expect(inner.get('b')).toBe('3');
  });
});

describe('consent', () => {
  it.each([
    { input: ['analytics'], needed: ['analytics'], prefs: { analytics: true }, granted: true },
    {
      input: ['ads'],
      needed: ['analytics'],
      prefs: { analytics: false, ads: true },
      granted: false,
    },
    {
      input: [],
      needed: ['analytics', 'ads'],
      prefs: { analytics: false, ads: false },
      granted: false,
    },
    {
      input: { analytics: true, ads: false },
      needed: ['analytics'],
      prefs: { analytics: true, ads: false },
      granted: true,
    },
    { input: { analytics: 'yes' }, needed: ['analytics'], prefs: {}, granted: false },
    { input: [], needed: [], prefs: {}, granted: true },
  ])('$input for $needed', ({ input, needed, prefs, granted }) => {
    const p = categoryPreferences(input as never, needed);
    expect(p).toEqual(prefs);
    expect(isGranted(p, needed)).toBe(granted);
  });

  it('is not granted before any answer', () => {
    expect(isGranted(undefined, [])).toBe(false);
  });
});
