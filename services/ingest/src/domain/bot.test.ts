import { describe, expect, it } from 'vitest';

import { botVerdict, isBotUserAgent, type BotVerdict, type UserAgentOrigin } from './bot.js';

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const HEADLESS =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36';
const BINGBOT = 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)';
const GPTBOT =
  'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)';

describe('botVerdict', () => {
  const cases: { ua: unknown; origin: UserAgentOrigin; expected: BotVerdict }[] = [
    { ua: CHROME, origin: 'client', expected: 'human' },
    { ua: IPHONE_SAFARI, origin: 'client', expected: 'human' },
    { ua: GOOGLEBOT, origin: 'client', expected: 'bot' },
    { ua: BINGBOT, origin: 'client', expected: 'bot' },
    { ua: GPTBOT, origin: 'client', expected: 'bot' },
    { ua: HEADLESS, origin: 'client', expected: 'bot' },
    { ua: 'python-requests/2.31.0', origin: 'client', expected: 'bot' },
    { ua: 'curl/8.4.0', origin: 'client', expected: 'bot' },
    { ua: '', origin: 'client', expected: 'missing' },
    { ua: '   ', origin: 'client', expected: 'missing' },
    { ua: undefined, origin: 'client', expected: 'missing' },
    { ua: null, origin: 'client', expected: 'missing' },
    { ua: 42, origin: 'client', expected: 'missing' },
    { ua: ['Googlebot'], origin: 'client', expected: 'missing' },
    // Request header of an ingest call: SDKs and HTTP libraries are the sender, not a crawler.
    { ua: 'analytics-node-next/latest', origin: 'request', expected: 'server_client' },
    { ua: 'analytics-python/2.3.2', origin: 'request', expected: 'server_client' },
    { ua: 'okhttp/4.12.0', origin: 'request', expected: 'server_client' },
    { ua: 'Go-http-client/1.1', origin: 'request', expected: 'server_client' },
    {
      ua: 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
      origin: 'request',
      expected: 'server_client',
    },
    { ua: 'axios/1.7.2', origin: 'request', expected: 'server_client' },
    { ua: 'Java/17.0.9', origin: 'request', expected: 'server_client' },
    { ua: 'Apache-HttpClient/4.5.14 (Java/17.0.9)', origin: 'request', expected: 'server_client' },
    { ua: 'curl/8.4.0', origin: 'request', expected: 'server_client' },
    { ua: 'CFNetwork/1494.0.7 Darwin/23.4.0', origin: 'request', expected: 'server_client' },
    { ua: 'MyApp/3.1 CFNetwork/1494.0.7 Darwin/23.4.0', origin: 'request', expected: 'human' },
    {
      ua: 'Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP1A)',
      origin: 'request',
      expected: 'server_client',
    },
    { ua: GOOGLEBOT, origin: 'request', expected: 'bot' },
    { ua: HEADLESS, origin: 'request', expected: 'bot' },
    { ua: CHROME, origin: 'request', expected: 'human' },
    { ua: '', origin: 'request', expected: 'missing' },
  ];

  it.each(cases)('$origin $ua → $expected', ({ ua, origin, expected }) => {
    expect(botVerdict(ua, origin)).toBe(expected);
  });

  it('inspects only the first 1024 characters', () => {
    expect(botVerdict(`${CHROME}${' '.repeat(2000)}Googlebot`)).toBe('human');
  });
});

describe('isBotUserAgent', () => {
  it.each([
    { ua: GOOGLEBOT, expected: true },
    { ua: HEADLESS, expected: true },
    { ua: 'analytics-node-next/latest', expected: true },
    { ua: CHROME, expected: false },
    { ua: '', expected: false },
    { ua: undefined, expected: false },
    { ua: {}, expected: false },
  ])('$ua → $expected', ({ ua, expected }) => {
    expect(isBotUserAgent(ua)).toBe(expected);
  });
});
