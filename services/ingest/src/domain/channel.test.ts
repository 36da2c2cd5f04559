import { describe, expect, it } from 'vitest';

import {
  CHANNEL_RULES,
  CHANNELS,
  PAID_MEDIUM_RE,
  SHOPPING_CAMPAIGN_RE,
  SOURCE_CATEGORIES,
  channelForTraffic,
  classifyChannel,
  detectSearchEngine,
  resolveTrafficSource,
  sourceCategory,
  type Channel,
  type ChannelInput,
  type SourceCategory,
  type TrafficSource,
} from './channel.js';

interface ChannelCase {
  readonly name: string;
  readonly input: ChannelInput;
  readonly expected: Channel;
}

const SITE = 'www.shop.example';

describe('classifyChannel', () => {
  const cases: ChannelCase[] = [
    // Direct
    { name: 'nothing at all', input: {}, expected: 'Direct' },
    {
      name: 'empty strings and nulls',
      input: { source: ' ', medium: null, campaign: '', referrerHost: '' },
      expected: 'Direct',
    },
    {
      name: 'same-host referrer (internal navigation)',
      input: { referrerHost: SITE, pageHost: SITE },
      expected: 'Direct',
    },
    {
      name: 'referrer on another subdomain of the same site',
      input: { referrerHost: 'blog.shop.example', pageHost: SITE },
      expected: 'Direct',
    },
    {
      name: 'same site under a two-part country suffix',
      input: { referrerHost: 'www.acme.co.uk', pageHost: 'checkout.acme.co.uk' },
      expected: 'Direct',
    },
    {
      name: 'fbclid alone does not make a click paid',
      input: { clickIds: { fbclid: 'IwAR0' } },
      expected: 'Direct',
    },
    {
      name: 'msclkid alone is ignored, as in GA4',
      input: { clickIds: { msclkid: 'abc' } },
      expected: 'Direct',
    },
    {
      name: 'garbage referrer is ignored',
      input: { referrerHost: 'not a host!' },
      expected: 'Direct',
    },

    // Cross-network
    {
      name: 'campaign contains cross-network',
      input: { source: 'google', medium: 'cpc', campaign: 'PMax_Cross-Network_EU' },
      expected: 'Cross-network',
    },
    {
      name: 'cross-network wins over a shopping campaign',
      input: { source: 'google', medium: 'cpc', campaign: 'shopping cross-network' },
      expected: 'Cross-network',
    },
    {
      name: 'gclid with a cross-network utm_campaign',
      input: { campaign: 'brand cross-network', clickIds: { gclid: 'x' } },
      expected: 'Cross-network',
    },

    // Paid Shopping
    {
      name: 'shopping site with cpc',
      input: { source: 'amazon', medium: 'cpc' },
      expected: 'Paid Shopping',
    },
    {
      name: 'shopping site on a country TLD',
      input: { source: 'ebay.de', medium: 'ppc' },
      expected: 'Paid Shopping',
    },
    {
      name: 'IGShopping name, any case',
      input: { source: 'IGShopping', medium: 'Paid' },
      expected: 'Paid Shopping',
    },
    {
      name: 'search site with shopping campaign (shopping rule comes first)',
      input: { source: 'google', medium: 'cpc', campaign: 'Shopping - Q4' },
      expected: 'Paid Shopping',
    },
    {
      name: 'unknown source with e-shop campaign',
      input: { source: 'adnet', medium: 'retargeting', campaign: 'eshop-retarget' },
      expected: 'Paid Shopping',
    },
    {
      name: 'gclid with shopping campaign',
      input: { campaign: 'shop_feed', clickIds: { gclid: 'x' } },
      expected: 'Paid Shopping',
    },

    // Paid Search
    { name: 'google / cpc', input: { source: 'google', medium: 'cpc' }, expected: 'Paid Search' },
    {
      name: 'case-insensitive google / CPC',
      input: { source: ' Google ', medium: 'CPC' },
      expected: 'Paid Search',
    },
    { name: 'bing / ppc', input: { source: 'bing', medium: 'ppc' }, expected: 'Paid Search' },
    {
      name: 'baidu / paidsearch',
      input: { source: 'baidu', medium: 'paidsearch' },
      expected: 'Paid Search',
    },
    {
      name: 'yahoo / retargeting',
      input: { source: 'yahoo', medium: 'retargeting' },
      expected: 'Paid Search',
    },
    {
      name: 'search host as utm_source',
      input: { source: 'www.google.co.uk', medium: 'cpc' },
      expected: 'Paid Search',
    },
    { name: 'gclid alone', input: { clickIds: { gclid: 'Cj0KCQ' } }, expected: 'Paid Search' },
    { name: 'gbraid alone', input: { clickIds: { gbraid: '0AAAAA' } }, expected: 'Paid Search' },
    { name: 'wbraid alone', input: { clickIds: { wbraid: 'CkQK' } }, expected: 'Paid Search' },
    {
      name: 'gclid wins over the referrer',
      input: { referrerHost: 'www.facebook.com', clickIds: { gclid: 'x' } },
      expected: 'Paid Search',
    },
    {
      name: 'gclid wins over UTMs by default (auto-tagging)',
      input: { source: 'newsletter', medium: 'email', clickIds: { gclid: 'x' } },
      expected: 'Paid Search',
    },
    {
      name: 'msclkid does not change a bing / cpc UTM',
      input: { source: 'bing', medium: 'cpc', clickIds: { msclkid: 'y' } },
      expected: 'Paid Search',
    },

    // Paid Social
    {
      name: 'facebook / paid_social',
      input: { source: 'facebook', medium: 'paid_social' },
      expected: 'Paid Social',
    },
    { name: 'fb / cpc', input: { source: 'fb', medium: 'cpc' }, expected: 'Paid Social' },
    { name: 'tiktok / paid', input: { source: 'tiktok', medium: 'paid' }, expected: 'Paid Social' },
    {
      name: 'linkedin / cpm (paid regex precedes Display)',
      input: { source: 'linkedin', medium: 'cpm' },
      expected: 'Paid Social',
    },
    {
      name: 'facebook subdomain host / cpc',
      input: { source: 'l.facebook.com', medium: 'cpc' },
      expected: 'Paid Social',
    },
    { name: 'x / cpc', input: { source: 'x', medium: 'cpc' }, expected: 'Paid Social' },
    {
      name: 'reddit / paid-social',
      input: { source: 'reddit', medium: 'paid-social' },
      expected: 'Paid Social',
    },

    // Paid Video
    { name: 'youtube / cpv', input: { source: 'youtube', medium: 'cpv' }, expected: 'Paid Video' },
    {
      name: 'vimeo / paid',
      input: { source: 'vimeo.com', medium: 'paid' },
      expected: 'Paid Video',
    },
    {
      name: 'bilibili / cpc',
      input: { source: 'bilibili', medium: 'cpc' },
      expected: 'Paid Video',
    },

    // Display
    {
      name: 'display medium',
      input: { source: 'partner', medium: 'display' },
      expected: 'Display',
    },
    { name: 'banner medium', input: { source: 'partner', medium: 'Banner' }, expected: 'Display' },
    {
      name: 'interstitial medium',
      input: { source: 'partner', medium: 'interstitial' },
      expected: 'Display',
    },
    {
      name: 'cpm on an unlisted source is Display, not Paid Other',
      input: { source: 'adnet', medium: 'cpm' },
      expected: 'Display',
    },
    {
      name: 'dclid alone (Campaign Manager / DV360)',
      input: { clickIds: { dclid: 'CJ' } },
      expected: 'Display',
    },

    // Paid Other
    {
      name: 'unlisted source with cpc',
      input: { source: 'adnet', medium: 'cpc' },
      expected: 'Paid Other',
    },
    {
      name: 'paid-media on an unlisted source',
      input: { source: 'podcast-network', medium: 'paid-media' },
      expected: 'Paid Other',
    },
    {
      name: 'workshop is not a shopping campaign',
      input: { source: 'adnet', medium: 'cpc', campaign: 'workshop' },
      expected: 'Paid Other',
    },
    {
      name: 'utm_source on a search-company subdomain is not search',
      input: { source: 'docs.google.com', medium: 'cpc' },
      expected: 'Paid Other',
    },

    // Organic Shopping
    {
      name: 'shopping referrer',
      input: { referrerHost: 'www.amazon.de' },
      expected: 'Organic Shopping',
    },
    {
      name: 'shopping host with referral medium',
      input: { source: 'etsy.com', medium: 'referral' },
      expected: 'Organic Shopping',
    },
    {
      name: 'shop campaign beats Email (rule order)',
      input: { source: 'newsletter', medium: 'email', campaign: 'shop-launch' },
      expected: 'Organic Shopping',
    },
    {
      name: 'Naver shopping host beats Naver search brand',
      input: { referrerHost: 'cr.shopping.naver.com' },
      expected: 'Organic Shopping',
    },
    {
      name: 'Yahoo shopping host beats Yahoo search brand',
      input: { referrerHost: 'store.shopping.yahoo.co.jp' },
      expected: 'Organic Shopping',
    },
    {
      name: 'Taobao item page referrer',
      input: { referrerHost: 'item.taobao.com', pageHost: SITE },
      expected: 'Organic Shopping',
    },
    {
      name: 'Amazon on another country TLD',
      input: { referrerHost: 'www.amazon.co.jp', pageHost: SITE },
      expected: 'Organic Shopping',
    },

    // Organic Social
    { name: 't.co referrer', input: { referrerHost: 't.co' }, expected: 'Organic Social' },
    {
      name: 'l.facebook.com referrer',
      input: { referrerHost: 'l.facebook.com' },
      expected: 'Organic Social',
    },
    {
      name: 'fbclid with facebook referrer stays organic',
      input: { referrerHost: 'm.facebook.com', clickIds: { fbclid: 'IwAR' } },
      expected: 'Organic Social',
    },
    {
      name: 'x.com referrer',
      input: { referrerHost: 'https://x.com/' },
      expected: 'Organic Social',
    },
    {
      name: 'linkedin referrer',
      input: { referrerHost: 'www.linkedin.com' },
      expected: 'Organic Social',
    },
    {
      name: 'pinterest country site',
      input: { referrerHost: 'pinterest.fr' },
      expected: 'Organic Social',
    },
    { name: 'weibo referrer', input: { referrerHost: 'weibo.com' }, expected: 'Organic Social' },
    {
      name: 'xiaohongshu referrer',
      input: { referrerHost: 'www.xiaohongshu.com' },
      expected: 'Organic Social',
    },
    {
      name: 'naver blog is social, not search',
      input: { referrerHost: 'm.blog.naver.com' },
      expected: 'Organic Social',
    },
    {
      name: 'social medium on an unlisted source',
      input: { source: 'partner', medium: 'Social Media' },
      expected: 'Organic Social',
    },
    { name: 'sm medium', input: { source: 'partner', medium: 'sm' }, expected: 'Organic Social' },
    { name: 'ig source without medium', input: { source: 'ig' }, expected: 'Organic Social' },
    {
      name: 'reddit / referral',
      input: { source: 'reddit', medium: 'referral' },
      expected: 'Organic Social',
    },

    // Organic Video
    {
      name: 'youtube referrer',
      input: { referrerHost: 'www.youtube.com' },
      expected: 'Organic Video',
    },
    {
      name: 'm.youtube.com referrer',
      input: { referrerHost: 'm.youtube.com' },
      expected: 'Organic Video',
    },
    { name: 'youtu.be referrer', input: { referrerHost: 'youtu.be' }, expected: 'Organic Video' },
    {
      name: 'twitch referrer',
      input: { referrerHost: 'www.twitch.tv' },
      expected: 'Organic Video',
    },
    {
      name: 'video medium',
      input: { source: 'partner', medium: 'video' },
      expected: 'Organic Video',
    },
    {
      name: 'medium containing video',
      input: { source: 'partner', medium: 'online-video-seeding' },
      expected: 'Organic Video',
    },

    // Organic Search
    {
      name: 'google.com referrer',
      input: { referrerHost: 'www.google.com', pageHost: SITE },
      expected: 'Organic Search',
    },
    {
      name: 'google.co.uk referrer',
      input: { referrerHost: 'https://www.google.co.uk/' },
      expected: 'Organic Search',
    },
    { name: 'bing referrer', input: { referrerHost: 'www.bing.com' }, expected: 'Organic Search' },
    {
      name: 'duckduckgo referrer',
      input: { referrerHost: 'duckduckgo.com' },
      expected: 'Organic Search',
    },
    {
      name: 'yahoo japan search referrer',
      input: { referrerHost: 'search.yahoo.co.jp' },
      expected: 'Organic Search',
    },
    {
      name: 'yandex.ru referrer',
      input: { referrerHost: 'yandex.ru' },
      expected: 'Organic Search',
    },
    {
      name: 'baidu mobile referrer',
      input: { referrerHost: 'm.baidu.com' },
      expected: 'Organic Search',
    },
    {
      name: 'naver search referrer',
      input: { referrerHost: 'm.search.naver.com' },
      expected: 'Organic Search',
    },
    {
      name: 'ecosia referrer',
      input: { referrerHost: 'www.ecosia.org' },
      expected: 'Organic Search',
    },
    {
      name: 'Google app on Android',
      input: { referrerHost: 'android-app://com.google.android.googlequicksearchbox/' },
      expected: 'Organic Search',
    },
    {
      name: 'google news referrer',
      input: { referrerHost: 'news.google.com' },
      expected: 'Organic Search',
    },
    {
      name: 'organic medium on an unlisted source',
      input: { source: 'partner', medium: 'organic' },
      expected: 'Organic Search',
    },
    {
      name: 'utm_source google without medium',
      input: { source: 'google' },
      expected: 'Organic Search',
    },

    // Referral
    {
      name: 'unlisted referrer',
      input: { referrerHost: 'news.example.org', pageHost: SITE },
      expected: 'Referral',
    },
    {
      name: 'referrer without page host counts as external',
      input: { referrerHost: 'www.shop.example' },
      expected: 'Referral',
    },
    {
      name: 'Google Docs is a referral, not search',
      input: { referrerHost: 'docs.google.com' },
      expected: 'Referral',
    },
    {
      name: 'shopify store is a referral, not shopping',
      input: { referrerHost: 'acme.myshopify.com' },
      expected: 'Referral',
    },
    {
      name: 'referral medium',
      input: { source: 'partner', medium: 'referral' },
      expected: 'Referral',
    },
    { name: 'app medium', input: { source: 'partner', medium: 'app' }, expected: 'Referral' },
    { name: 'link medium', input: { source: 'partner', medium: 'link' }, expected: 'Referral' },
    { name: 'IP-address referrer', input: { referrerHost: '203.0.113.9' }, expected: 'Referral' },

    // Email
    { name: 'email medium', input: { source: 'newsletter', medium: 'email' }, expected: 'Email' },
    {
      name: 'E-Mail medium, any case',
      input: { source: 'newsletter', medium: 'E-Mail' },
      expected: 'Email',
    },
    { name: 'e_mail medium', input: { source: 'crm', medium: 'e_mail' }, expected: 'Email' },
    { name: '"e mail" medium', input: { source: 'crm', medium: 'e mail' }, expected: 'Email' },
    { name: 'email source without medium', input: { source: 'email' }, expected: 'Email' },
    {
      name: 'UTMs win over a referrer',
      input: { source: 'newsletter', medium: 'email', referrerHost: 'mail.yahoo.com' },
      expected: 'Email',
    },
    {
      name: 'manual override lets UTMs beat gclid',
      input: {
        source: 'newsletter',
        medium: 'email',
        clickIds: { gclid: 'x' },
        manualOverridesAutoTagging: true,
      },
      expected: 'Email',
    },

    // Affiliates, Audio, SMS, Push
    {
      name: 'affiliate medium',
      input: { source: 'awin', medium: 'affiliate' },
      expected: 'Affiliates',
    },
    { name: 'audio medium', input: { source: 'spotify', medium: 'audio' }, expected: 'Audio' },
    { name: 'sms source', input: { source: 'sms' }, expected: 'SMS' },
    { name: 'sms medium', input: { source: 'twilio', medium: 'SMS' }, expected: 'SMS' },
    {
      name: 'medium ending in push',
      input: { source: 'braze', medium: 'web-push' },
      expected: 'Mobile Push Notifications',
    },
    {
      name: 'medium containing mobile',
      input: { source: 'braze', medium: 'mobile' },
      expected: 'Mobile Push Notifications',
    },
    {
      name: 'medium containing notification',
      input: { source: 'braze', medium: 'in_app_notification' },
      expected: 'Mobile Push Notifications',
    },
    {
      name: 'firebase source',
      input: { source: 'firebase' },
      expected: 'Mobile Push Notifications',
    },

    // Unassigned
    { name: 'source only, unlisted', input: { source: 'newsletter' }, expected: 'Unassigned' },
    { name: 'medium only, unlisted', input: { medium: 'newsletter' }, expected: 'Unassigned' },
    { name: 'campaign only', input: { campaign: 'spring' }, expected: 'Unassigned' },
    {
      name: 'emailblast is not exactly email',
      input: { source: 'crm', medium: 'emailblast' },
      expected: 'Unassigned',
    },
    {
      name: 'affiliates (plural) is not affiliate',
      input: { source: 'crm', medium: 'affiliates' },
      expected: 'Unassigned',
    },
  ];

  it.each(cases)('$name → $expected', ({ input, expected }) => {
    expect(classifyChannel(input)).toBe(expected);
  });
});

describe('resolveTrafficSource', () => {
  const cases: { name: string; input: ChannelInput; expected: TrafficSource }[] = [
    {
      name: 'no data',
      input: {},
      expected: { source: '(direct)', medium: '(none)', campaign: '(direct)' },
    },
    {
      name: 'gclid',
      input: { clickIds: { gclid: 'x' } },
      expected: { source: 'google', medium: 'cpc', campaign: '(not set)' },
    },
    {
      name: 'gclid keeps utm_campaign',
      input: { campaign: 'Brand', clickIds: { gclid: 'x' } },
      expected: { source: 'google', medium: 'cpc', campaign: 'brand' },
    },
    {
      name: 'dclid',
      input: { clickIds: { dclid: 'x' } },
      expected: { source: 'dfa', medium: 'cpm', campaign: '(not set)' },
    },
    {
      name: 'blank gclid is no gclid',
      input: { clickIds: { gclid: '  ' } },
      expected: { source: '(direct)', medium: '(none)', campaign: '(direct)' },
    },
    {
      name: 'UTMs lower-cased, missing ones (not set)',
      input: { source: 'NewsLetter' },
      expected: { source: 'newsletter', medium: '(not set)', campaign: '(not set)' },
    },
    {
      name: 'search referrer',
      input: { referrerHost: 'www.google.de' },
      expected: { source: 'google', medium: 'organic', campaign: '(organic)' },
    },
    {
      name: 'other referrer keeps host without www',
      input: { referrerHost: 'WWW.Example.org:8443' },
      expected: { source: 'example.org', medium: 'referral', campaign: '(referral)' },
    },
    {
      name: 'referrer given as URL',
      input: { referrerHost: 'https://l.instagram.com/?u=x' },
      expected: { source: 'l.instagram.com', medium: 'referral', campaign: '(referral)' },
    },
    {
      name: 'same-site referrer',
      input: { referrerHost: 'a.example.com', pageHost: 'b.example.com' },
      expected: { source: '(direct)', medium: '(none)', campaign: '(direct)' },
    },
  ];

  it.each(cases)('$name', ({ input, expected }) => {
    expect(resolveTrafficSource(input)).toEqual(expected);
  });
});

describe('channelForTraffic', () => {
  it.each([
    {
      traffic: { source: '(direct)', medium: '(not set)', campaign: '(not set)' },
      expected: 'Direct',
    },
    {
      traffic: { source: 'Google', medium: 'Organic', campaign: '(organic)' },
      expected: 'Organic Search',
    },
    {
      traffic: { source: 'm.facebook.com', medium: 'referral', campaign: '(referral)' },
      expected: 'Organic Social',
    },
    {
      traffic: { source: 'example.org', medium: 'referral', campaign: '(referral)' },
      expected: 'Referral',
    },
    {
      traffic: { source: '(not set)', medium: '(not set)', campaign: '(not set)' },
      expected: 'Unassigned',
    },
  ] satisfies { traffic: TrafficSource; expected: Channel }[])(
    '$traffic.source / $traffic.medium → $expected',
    ({ traffic, expected }) => {
      expect(channelForTraffic(traffic)).toBe(expected);
    },
  );
});

describe('sourceCategory', () => {
  const cases: { value: unknown; expected: SourceCategory | undefined }[] = [
    { value: 'google', expected: 'search' },
    { value: 'Google', expected: 'search' },
    { value: 'google.com', expected: 'search' },
    { value: 'www.google.com.br', expected: 'search' },
    { value: 'search.yahoo.com', expected: 'search' },
    { value: 'uk.search.yahoo.com', expected: 'search' },
    { value: 'cn.bing.com', expected: 'search' },
    { value: 'google-play', expected: 'search' },
    { value: 'rakuten', expected: 'search' },
    { value: 'so.com', expected: 'search' },
    { value: 'search.brave.com', expected: 'search' },
    { value: 'docs.google.com', expected: undefined },
    { value: 'mail.yahoo.com', expected: undefined },
    { value: 'answers.yahoo.com', expected: 'social' },
    { value: 'groups.google.com', expected: 'social' },
    { value: 'facebook', expected: 'social' },
    { value: 'web.facebook.com', expected: 'social' },
    { value: 'lnkd.in', expected: 'social' },
    { value: 't.co', expected: 'social' },
    { value: 'twitter', expected: 'social' },
    { value: 'line', expected: 'social' },
    { value: 'wechat', expected: 'social' },
    { value: 'douyin', expected: 'social' },
    { value: 'vk.com', expected: 'social' },
    { value: 'youtube', expected: 'video' },
    { value: 'music.youtube.com', expected: 'video' },
    { value: 'player.vimeo.com', expected: 'video' },
    { value: 'youku.com', expected: 'video' },
    { value: 'amazon', expected: 'shopping' },
    { value: 'amazon.co.jp', expected: 'shopping' },
    { value: 'google shopping', expected: 'shopping' },
    { value: 'checkout.shopify.com', expected: 'shopping' },
    { value: 'jd.com', expected: 'shopping' },
    { value: 'tmall', expected: 'shopping' },
    { value: 'aliexpress.us', expected: 'shopping' },
    { value: 'mercadolibre.com.mx', expected: 'shopping' },
    { value: 'shopee.co.id', expected: 'shopping' },
    { value: 'aws.amazon.com', expected: undefined },
    { value: 'example.com', expected: undefined },
    { value: 'com', expected: undefined },
    { value: '', expected: undefined },
    { value: '(direct)', expected: undefined },
    { value: 42, expected: undefined },
    { value: null, expected: undefined },
    { value: { source: 'google' }, expected: undefined },
  ];

  it.each(cases)('$value → $expected', ({ value, expected }) => {
    expect(sourceCategory(value)).toBe(expected);
  });
});

describe('detectSearchEngine', () => {
  it.each([
    { host: 'www.google.com', expected: 'google' },
    { host: 'google.co.jp', expected: 'google' },
    { host: 'https://www.bing.com/search?q=x', expected: 'bing' },
    { host: 'fr.search.yahoo.com', expected: 'yahoo' },
    { host: 'yandex.com.tr', expected: 'yandex' },
    { host: 'com.google.android.googlequicksearchbox', expected: 'google' },
    { host: 'docs.google.com', expected: undefined },
    { host: 'facebook.com', expected: undefined },
    { host: 'news.google.com', expected: undefined },
    { host: '', expected: undefined },
    { host: undefined, expected: undefined },
  ])('$host → $expected', ({ host, expected }) => {
    expect(detectSearchEngine(host)).toBe(expected);
  });
});

describe('GA4 regexes', () => {
  it.each([
    { medium: 'cpc', paid: true },
    { medium: 'cpm', paid: true },
    { medium: 'cpv', paid: true },
    { medium: 'ppc', paid: true },
    { medium: 'retargeting', paid: true },
    { medium: 'paid', paid: true },
    { medium: 'paidsocial', paid: true },
    { medium: 'paid_search', paid: true },
    { medium: 'ppc-brand', paid: false },
    { medium: 'unpaid', paid: false },
    { medium: 'organic', paid: false },
    { medium: 'email', paid: false },
  ])('paid medium $medium → $paid', ({ medium, paid }) => {
    expect(PAID_MEDIUM_RE.test(medium)).toBe(paid);
  });

  it.each([
    { campaign: 'shop', shopping: true },
    { campaign: 'eshop', shopping: true },
    { campaign: 'e-shop', shopping: true },
    { campaign: 'summer_shop', shopping: true },
    { campaign: 'shopping', shopping: true },
    { campaign: 'pmax shopping feed', shopping: true },
    { campaign: 'workshop', shopping: false },
    { campaign: 'bookshop', shopping: false },
    { campaign: 'brand', shopping: false },
  ])('shopping campaign $campaign → $shopping', ({ campaign, shopping }) => {
    expect(SHOPPING_CAMPAIGN_RE.test(campaign)).toBe(shopping);
  });
});

describe('rule table and source lists', () => {
  it("evaluates the rules in Google's order, Unassigned last", () => {
    expect([...CHANNEL_RULES.map((rule) => rule.channel), 'Unassigned']).toEqual([...CHANNELS]);
  });

  const entries = Object.entries(SOURCE_CATEGORIES).flatMap(([category, list]) =>
    [...list.brands, ...list.names, ...list.hosts].map((value) => ({ category, value })),
  );

  it('has lower-case, trimmed entries', () => {
    const bad = entries.filter(({ value }) => value !== value.trim().toLowerCase() || value === '');
    expect(bad).toEqual([]);
  });

  it('puts no value in two categories', () => {
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    for (const { category, value } of entries) {
      const before = seen.get(value);
      if (before !== undefined && before !== category)
        clashes.push(`${value}: ${before} / ${category}`);
      seen.set(value, category);
    }
    expect(clashes).toEqual([]);
  });

  it.each(entries)('$value is classified as $category', ({ category, value }) => {
    expect(sourceCategory(value)).toBe(category);
  });
});
