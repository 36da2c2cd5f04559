import { describe, expect, it } from 'vitest';
import { createCdpCore, type Cdp } from './cdp.js';
import { CdpConfigError, type CdpOptions } from './options.js';
import { memoryKV } from './store.js';
import { fakeCookieJar, fakeEnv, settle, type FakeEnv } from './test/fakes.js';

type Sent = Record<string, unknown> & { context: Record<string, unknown> };

function started(
  options: CdpOptions = {},
  env: FakeEnv = fakeEnv(),
): { cdp: Cdp; env: FakeEnv; sent: () => Sent[] } {
  const { api } = createCdpCore(env);
  api.load('wk_1', { host: 'https://c.example', ...options });
  const sent = (): Sent[] =>
    [...env.fake.sent.map((s) => s.body), ...env.fake.beacons].flatMap((b) => b.batch as Sent[]);
  return { cdp: api, env, sent };
}

describe('createCdp', () => {
  it('replays calls made before load, with the time they were made', async () => {
    const env = fakeEnv();
    const core = createCdpCore(env);
    const callTime = env.clock.now() - 5000;
    core.call('track', ['Early', { a: 1 }], callTime);
    core.api.identify('u1');
    const flushed = core.api.flush();
    core.api.load('wk_1', { host: 'https://c.example' });
    await flushed;
    const batch = env.fake.sent.flatMap((s) => s.body.batch);
    expect(batch.map((e) => [e['type'], e['event']])).toEqual([
      ['track', 'Early'],
      ['identify', undefined],
    ]);
    expect(batch[0]!['timestamp']).toBe(new Date(callTime).toISOString());
    expect(env.fake.sent[0]!.url).toBe('https://c.example/v1/b');
  });

  it('sends Segment-shaped events with the automatic context', async () => {
    const env = fakeEnv();
    env.page = {
      ...env.page,
      href: 'https://shop.example/p?utm_source=news&utm_campaign=spring&gclid=g1',
      pathname: '/p',
      search: '?utm_source=news&utm_campaign=spring&gclid=g1',
    };
    const { cdp, sent } = started({}, env);
    cdp.page('Docs', 'Intro', { section: 2 });
    cdp.track('Clicked', { id: 7 }, { integrations: { All: false } });
    await cdp.flush();
    const [page, track] = sent();
    expect(page).toMatchObject({
      type: 'page',
      category: 'Docs',
      name: 'Intro',
      properties: {
        url: 'https://shop.example/p?utm_source=news&utm_campaign=spring&gclid=g1',
        path: '/p',
        name: 'Intro',
        category: 'Docs',
        section: 2,
      },
    });
    expect(page!.context).toMatchObject({
      campaign: { source: 'news', name: 'spring', gclid: 'g1' },
      sessionStart: true,
      locale: 'en-US',
      timezone: 'UTC',
      screen: { width: 1280, height: 800, density: 2 },
      userAgent: 'FakeBrowser/1',
      library: { name: '@cdp/sdk-browser' },
    });
    expect(track).toMatchObject({
      type: 'track',
      event: 'Clicked',
      properties: { id: 7 },
      integrations: { All: false },
    });
    expect(track!.context['sessionId']).toBe(page!.context['sessionId']);
    expect(track!.context).not.toHaveProperty('sessionStart');
    expect(track!['anonymousId']).toBe(page!['anonymousId']);
    expect(track!['messageId']).not.toBe(page!['messageId']);
  });

  it.each([
    { args: [], category: undefined, name: undefined, props: {} },
    { args: ['Home'], category: undefined, name: 'Home', props: { name: 'Home' } },
    { args: ['Home', { a: 1 }], category: undefined, name: 'Home', props: { name: 'Home', a: 1 } },
    { args: [null, 'Home'], category: undefined, name: 'Home', props: { name: 'Home' } },
    { args: [{ a: 1 }], category: undefined, name: undefined, props: { a: 1 } },
  ])('page($args)', async ({ args, category, name, props }) => {
    const { cdp, sent } = started();
    (cdp.page as (...a: unknown[]) => void)(...args);
    await cdp.flush();
    const e = sent()[0]!;
    expect(e['category']).toBe(category);
    expect(e['name']).toBe(name);
    expect(e['properties']).toMatchObject({ path: '/', ...props });
  });

  it('identify merges traits for the same user, replaces them for another; alias and group', async () => {
    const { cdp, sent } = started();
    cdp.identify('u1', { plan: 'free', a: 1 });
    cdp.identify({ plan: 'pro' });
    cdp.identify('u2', { b: 2 });
    cdp.alias('u3');
    cdp.group('g1', { seats: 3 });
    await cdp.flush();
    const [i1, i2, i3, al, gr] = sent();
    expect(i1).toMatchObject({ type: 'identify', userId: 'u1', traits: { plan: 'free', a: 1 } });
    expect(i2).toMatchObject({ userId: 'u1', traits: { plan: 'pro', a: 1 } });
    expect(i3!['traits']).toEqual({ b: 2 });
    expect(al).toMatchObject({ type: 'alias', userId: 'u3', previousId: 'u2' });
    expect(gr).toMatchObject({ type: 'group', groupId: 'g1', userId: 'u2', traits: { seats: 3 } });
    expect(cdp.user()).toEqual({ id: 'u2', anonymousId: i1!['anonymousId'], traits: { b: 2 } });
  });

  it('keeps the anonymous id in a cookie and localStorage across loads; reset() starts over', async () => {
    const local = memoryKV();
    const jar = fakeCookieJar();
    const first = started({}, fakeEnv({ local, jar }));
    const aid = first.cdp.anonymousId();
    expect(aid).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.env.cookieValue('cdp_aid')).toBe(aid);
    expect(jar.raw.at(-1)).toBe(`cdp_aid=${aid}; Max-Age=31536000; Path=/; SameSite=Lax; Secure`);
    first.cdp.identify('u1', { a: 1 });
    const second = started({}, fakeEnv({ local, jar }));
    expect(second.cdp.user()).toEqual({ id: 'u1', anonymousId: aid, traits: { a: 1 } });
    // Cookie gone (cleared, or blocked): localStorage still has it.
    jar.cookie = 'cdp_aid=; Max-Age=0';
    expect(started({}, fakeEnv({ local, jar })).cdp.anonymousId()).toBe(aid);
    second.cdp.reset();
    expect(second.cdp.user()).toEqual({
      id: null,
      anonymousId: expect.not.stringMatching(aid),
      traits: {},
    });
    expect(second.env.cookieValue('cdp_aid')).toBe(second.cdp.anonymousId());
  });

  it('rotates the session after the inactivity timeout', async () => {
    const { cdp, env, sent } = started({ session: { timeoutMs: 1000 } });
    cdp.track('a');
    const s1 = cdp.sessionId();
    await env.clock.advance(999);
    cdp.track('b');
    await env.clock.advance(1000);
    cdp.track('c');
    await cdp.flush();
    const ctx = sent().map((e) => e.context);
    expect(ctx.map((c) => c['sessionId'])).toEqual([s1, s1, env.clock.now()]);
    expect(ctx.map((c) => c['sessionStart'])).toEqual([true, undefined, true]);
  });

  it('holds events and writes no storage before consent, then sends them with the consent', async () => {
    const env = fakeEnv();
    const { cdp, sent } = started({ consent: { required: true, categories: ['analytics'] } }, env);
    cdp.track('Before');
    cdp.consent(['ads']);
    await cdp.flush();
    await env.clock.advance(5000);
    expect(sent()).toEqual([]);
    expect(env.local.keys()).toEqual([]);
    expect(env.session.keys()).toEqual([]);
    expect(env.jar.cookie).toBe('');
    cdp.consent({ analytics: true, ads: false });
    cdp.track('After');
    await cdp.flush();
    expect(sent().map((e) => [e['event'], e.context['consent']])).toEqual([
      ['Before', { categoryPreferences: { analytics: true, ads: false } }],
      ['After', { categoryPreferences: { analytics: true, ads: false } }],
    ]);
    expect(env.cookieValue('cdp_aid')).toBe(cdp.anonymousId());
  });

  it('drops events made before consent with beforeConsent: drop', async () => {
    const { cdp, sent } = started({ consent: { required: true, beforeConsent: 'drop' } });
    cdp.track('Before');
    cdp.consent(['analytics']);
    cdp.track('After');
    await cdp.flush();
    expect(sent().map((e) => e['event'])).toEqual(['After']);
  });

  it('sends and stores nothing under Do-Not-Track when asked to respect it', async () => {
    const env = fakeEnv();
    env.dntOn = true;
    const { cdp, sent } = started({ respectDnt: true }, env);
    cdp.page();
    cdp.identify('u1', { email: 'a@b.c' });
    await cdp.flush();
    env.fire('pagehide');
    expect(sent()).toEqual([]);
    expect(env.local.keys()).toEqual([]);
    expect(env.jar.raw).toEqual([]);
    const other = fakeEnv();
    other.dntOn = true;
    const ignoring = started({}, other);
    ignoring.cdp.track('x');
    await ignoring.cdp.flush();
    expect(ignoring.sent()).toHaveLength(1);
  });

  it('listens to the page lifecycle', async () => {
    const { cdp, env } = started();
    cdp.track('x');
    env.fire('pagehide');
    expect(env.fake.beacons).toHaveLength(1);
    await settle();
  });

  it('refuses bad load arguments and a second load, names bad call arguments', () => {
    const env = fakeEnv();
    const { api } = createCdpCore(env);
    expect(() => api.load('', {})).toThrow(TypeError);
    expect(() => api.load('wk', { batch: { size: -1 } })).toThrow(CdpConfigError);
    api.load('wk', {});
    api.load('wk', {});
    api.track('');
    api.group('');
    api.alias('');
    api.consent('analytics' as never);
    expect(env.warnings.map((w) => String(w[0]))).toEqual([
      '[cdp] load() was called again; ignored',
      '[cdp] track(event): event must be a non-empty string',
      '[cdp] group(groupId): groupId must be a non-empty string',
      '[cdp] alias(userId): userId must be a non-empty string',
      '[cdp] consent(categories): pass a list of categories or a {category: boolean} map',
    ]);
  });
});
