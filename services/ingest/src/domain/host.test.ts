import { describe, expect, it } from 'vitest';

import {
  hostOfUrl,
  hostParts,
  isSameSite,
  normalizeHost,
  registrableDomain,
  type HostParts,
} from './host.js';

describe('normalizeHost', () => {
  it.each([
    { value: 'Example.COM', expected: 'example.com' },
    { value: ' www.example.com ', expected: 'example.com' },
    { value: 'www.example.com.', expected: 'example.com' },
    { value: 'example.com:8080', expected: 'example.com' },
    { value: 'https://www.example.com/path?q=1', expected: 'example.com' },
    { value: '//cdn.example.com/x.js', expected: 'cdn.example.com' },
    { value: 'example.com/path', expected: 'example.com' },
    { value: '[2001:db8::1]:443', expected: '2001:db8::1' },
    { value: '2001:db8::1', expected: '2001:db8::1' },
    { value: '203.0.113.9', expected: '203.0.113.9' },
    { value: 'xn--bcher-kva.example', expected: 'xn--bcher-kva.example' },
    {
      value: 'com.google.android.googlequicksearchbox',
      expected: 'com.google.android.googlequicksearchbox',
    },
    { value: 'not a host', expected: undefined },
    { value: 'a..b', expected: undefined },
    { value: '.example.com', expected: undefined },
    { value: 'www.', expected: 'www' },
    { value: 'https://', expected: undefined },
    { value: 'x'.repeat(300), expected: undefined },
    { value: '', expected: undefined },
    { value: 42, expected: undefined },
    { value: null, expected: undefined },
  ])('$value → $expected', ({ value, expected }) => {
    expect(normalizeHost(value)).toBe(expected);
  });
});

describe('hostOfUrl', () => {
  it.each([
    { url: 'https://WWW.Example.com/a', expected: 'example.com' },
    { url: 'http://bücher.example/', expected: 'xn--bcher-kva.example' },
    {
      url: 'android-app://com.google.android.googlequicksearchbox/',
      expected: 'com.google.android.googlequicksearchbox',
    },
    { url: 'about:blank', expected: undefined },
    { url: '/relative/path', expected: undefined },
    { url: 'garbage', expected: undefined },
    { url: '', expected: undefined },
    { url: undefined, expected: undefined },
  ])('$url → $expected', ({ url, expected }) => {
    expect(hostOfUrl(url)).toBe(expected);
  });
});

describe('hostParts and registrableDomain', () => {
  it.each([
    { host: 'google.com', expected: { label: 'google', domain: 'google.com', subdomain: '' } },
    {
      host: 'search.yahoo.co.jp',
      expected: { label: 'yahoo', domain: 'yahoo.co.jp', subdomain: 'search' },
    },
    {
      host: 'uk.search.yahoo.com',
      expected: { label: 'yahoo', domain: 'yahoo.com', subdomain: 'uk.search' },
    },
    {
      host: 'yandex.com.tr',
      expected: { label: 'yandex', domain: 'yandex.com.tr', subdomain: '' },
    },
    { host: 't.co', expected: { label: 't', domain: 't.co', subdomain: '' } },
    { host: 'a.b.co', expected: { label: 'b', domain: 'b.co', subdomain: 'a' } },
    {
      host: 'shop.example.co.uk',
      expected: { label: 'example', domain: 'example.co.uk', subdomain: 'shop' },
    },
    { host: 'localhost', expected: undefined },
    { host: '203.0.113.9', expected: undefined },
    { host: '2001:db8::1', expected: undefined },
  ] satisfies { host: string; expected: HostParts | undefined }[])(
    '$host',
    ({ host, expected }) => {
      expect(hostParts(host)).toEqual(expected);
      expect(registrableDomain(host)).toBe(expected?.domain ?? host);
    },
  );
});

describe('isSameSite', () => {
  it.each([
    { a: 'www.example.com', b: 'example.com', expected: true },
    { a: 'blog.example.com', b: 'shop.example.com', expected: true },
    { a: 'https://a.example.co.uk/x', b: 'example.co.uk', expected: true },
    { a: 'example.com', b: 'example.org', expected: false },
    { a: 'example.co.uk', b: 'other.co.uk', expected: false },
    { a: '203.0.113.9', b: '203.0.113.9', expected: true },
    { a: '203.0.113.9', b: '203.0.113.10', expected: false },
    { a: 'example.com', b: undefined, expected: false },
    { a: '', b: '', expected: false },
  ])('$a ~ $b → $expected', ({ a, b, expected }) => {
    expect(isSameSite(a, b)).toBe(expected);
  });
});
