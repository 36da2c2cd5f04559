import { describe, expect, it } from 'vitest';
import { parseCampaign } from './campaign.js';

describe('parseCampaign', () => {
  it.each([
    ['', undefined],
    ['?q=shoes&page=2', undefined],
    [
      '?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=red+shoes&utm_content=ad1',
      { source: 'google', medium: 'cpc', name: 'spring', term: 'red shoes', content: 'ad1' },
    ],
    ['utm_source=news', { source: 'news' }],
    ['?UTM_Source=News&Gclid=abc', { source: 'News', gclid: 'abc' }],
    ['?utm_id=42&utm_source_platform=dv360', { id: '42', source_platform: 'dv360' }],
    [
      '?gclid=g&fbclid=f&ttclid=t&msclkid=m&dclid=d&wbraid=w&gbraid=b',
      { gclid: 'g', fbclid: 'f', ttclid: 't', msclkid: 'm', dclid: 'd', wbraid: 'w', gbraid: 'b' },
    ],
    ['?utm_source=&utm_medium=email', { medium: 'email' }],
    ['?utm_source=a&utm_source=b', { source: 'a' }],
    ['?utm_=x&utm', undefined],
    ['?utm_campaign=caf%C3%A9%20%26%20co', { name: 'café & co' }],
  ])('%j -> %j', (search, expected) => {
    expect(parseCampaign(search)).toEqual(expected);
  });

  it('keeps a utm___proto__ parameter as data, not as a prototype', () => {
    const c = parseCampaign('?utm___proto__=x&utm_source=s');
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(JSON.stringify(c)).toBe('{"__proto__":"x","source":"s"}');
  });
});
