import { describe, expect, it } from 'vitest';

import {
  applyIpPolicy,
  clientIp,
  normalizeIp,
  parseIp,
  type HeaderBag,
  type IpPolicy,
} from './ip-policy.js';

describe('normalizeIp', () => {
  const cases: { value: unknown; expected: string | undefined }[] = [
    { value: '203.0.113.7', expected: '203.0.113.7' },
    { value: ' 203.0.113.7 ', expected: '203.0.113.7' },
    { value: '203.0.113.7:51234', expected: '203.0.113.7' },
    { value: '0.0.0.0', expected: '0.0.0.0' },
    { value: '255.255.255.255', expected: '255.255.255.255' },
    { value: '256.1.1.1', expected: undefined },
    { value: '01.2.3.4', expected: undefined },
    { value: '1.2.3', expected: undefined },
    { value: '1.2.3.4.5', expected: undefined },
    { value: '2001:0DB8:0000:0000:0000:0000:0000:0001', expected: '2001:db8::1' },
    { value: '2001:db8::1', expected: '2001:db8::1' },
    { value: '2001:db8:0:0:1:0:0:1', expected: '2001:db8::1:0:0:1' },
    { value: '2001:0:0:1:0:0:0:1', expected: '2001:0:0:1::1' },
    { value: '2001:db8:1:2:3:4:5:0', expected: '2001:db8:1:2:3:4:5:0' },
    { value: '::', expected: '::' },
    { value: '::1', expected: '::1' },
    { value: 'fe80::', expected: 'fe80::' },
    { value: 'fe80::1%eth0', expected: 'fe80::1' },
    { value: '[2001:db8::1]', expected: '2001:db8::1' },
    { value: '[2001:db8::1]:443', expected: '2001:db8::1' },
    { value: '::ffff:203.0.113.7', expected: '203.0.113.7' },
    { value: '::FFFF:cb00:7107', expected: '203.0.113.7' },
    { value: '[::ffff:203.0.113.7]:80', expected: '203.0.113.7' },
    { value: '64:ff9b::203.0.113.7', expected: '64:ff9b::cb00:7107' },
    { value: '2001:db8::1::2', expected: undefined },
    { value: '2001:db8:1:2:3:4:5:6:7', expected: undefined },
    { value: '2001:db8:1:2:3:4:5', expected: undefined },
    { value: '2001:db8::12345', expected: undefined },
    { value: ':1', expected: undefined },
    { value: '::ffff:300.1.1.1', expected: undefined },
    { value: '[2001:db8::1', expected: undefined },
    { value: '[2001:db8::1]x', expected: undefined },
    { value: 'unknown', expected: undefined },
    { value: 'example.com', expected: undefined },
    { value: '', expected: undefined },
    { value: 'x'.repeat(500), expected: undefined },
    { value: 2130706433, expected: undefined },
    { value: null, expected: undefined },
  ];

  it.each(cases)('$value → $expected', ({ value, expected }) => {
    expect(normalizeIp(value)).toBe(expected);
  });

  it('reports the version', () => {
    expect(parseIp('::ffff:1.2.3.4')?.version).toBe(4);
    expect(parseIp('2001:db8::1')?.version).toBe(6);
  });
});

describe('applyIpPolicy', () => {
  const cases: { ip: unknown; policy: IpPolicy; expected: string | null }[] = [
    { ip: '203.0.113.7', policy: 'keep', expected: '203.0.113.7' },
    { ip: '203.0.113.7', policy: 'strip_last_octet', expected: '203.0.113.0' },
    { ip: '203.0.113.7', policy: 'drop', expected: null },
    { ip: '::ffff:203.0.113.7', policy: 'keep', expected: '203.0.113.7' },
    { ip: '::ffff:203.0.113.7', policy: 'strip_last_octet', expected: '203.0.113.0' },
    {
      ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348',
      policy: 'keep',
      expected: '2001:db8:85a3:8d3:1319:8a2e:370:7348',
    },
    {
      ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348',
      policy: 'strip_last_octet',
      expected: '2001:db8:85a3::',
    },
    { ip: '2001:db8::1', policy: 'strip_last_octet', expected: '2001:db8::' },
    { ip: '::1', policy: 'strip_last_octet', expected: '::' },
    {
      ip: '[2a00:1450:4001:82b::200e]:443',
      policy: 'strip_last_octet',
      expected: '2a00:1450:4001::',
    },
    { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', policy: 'drop', expected: null },
    { ip: 'not-an-ip', policy: 'keep', expected: null },
    { ip: 'not-an-ip', policy: 'strip_last_octet', expected: null },
    { ip: undefined, policy: 'keep', expected: null },
    { ip: 42, policy: 'keep', expected: null },
  ];

  it.each(cases)('$policy $ip → $expected', ({ ip, policy, expected }) => {
    expect(applyIpPolicy(ip, policy)).toBe(expected);
  });
});

describe('clientIp', () => {
  const socket = '10.0.0.2';
  const cases: {
    name: string;
    headers: HeaderBag;
    socketIp: unknown;
    trustProxy: boolean | number;
    expected: string | null;
  }[] = [
    {
      name: 'no proxy trust ignores X-Forwarded-For',
      headers: { 'x-forwarded-for': '198.51.100.1' },
      socketIp: socket,
      trustProxy: false,
      expected: socket,
    },
    {
      name: 'trust 0 hops is no trust',
      headers: { 'x-forwarded-for': '198.51.100.1' },
      socketIp: socket,
      trustProxy: 0,
      expected: socket,
    },
    {
      name: 'trust: first hop',
      headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.9' },
      socketIp: socket,
      trustProxy: true,
      expected: '198.51.100.1',
    },
    {
      name: 'trust: garbage first entry skipped',
      headers: { 'x-forwarded-for': 'unknown, 198.51.100.1' },
      socketIp: socket,
      trustProxy: true,
      expected: '198.51.100.1',
    },
    {
      name: 'trust: entry with port and IPv6 brackets',
      headers: { 'x-forwarded-for': '[2001:db8::7]:1234' },
      socketIp: socket,
      trustProxy: true,
      expected: '2001:db8::7',
    },
    {
      name: 'trust: several headers joined',
      headers: { 'x-forwarded-for': ['198.51.100.1', '10.0.0.9'] },
      socketIp: socket,
      trustProxy: true,
      expected: '198.51.100.1',
    },
    {
      name: 'trust: header name in any case',
      headers: { 'X-Forwarded-For': '198.51.100.1' },
      socketIp: socket,
      trustProxy: true,
      expected: '198.51.100.1',
    },
    {
      name: 'trust: no header uses the socket',
      headers: {},
      socketIp: socket,
      trustProxy: true,
      expected: socket,
    },
    {
      name: 'trust: empty header uses the socket',
      headers: { 'x-forwarded-for': ' , ' },
      socketIp: socket,
      trustProxy: true,
      expected: socket,
    },
    {
      name: 'trust: only garbage uses the socket',
      headers: { 'x-forwarded-for': 'unknown' },
      socketIp: socket,
      trustProxy: true,
      expected: socket,
    },
    {
      name: '1 trusted hop: the last entry',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.1' },
      socketIp: socket,
      trustProxy: 1,
      expected: '198.51.100.1',
    },
    {
      name: '2 trusted hops: second from the right',
      headers: { 'x-forwarded-for': '6.6.6.6, 198.51.100.1, 10.0.0.9' },
      socketIp: socket,
      trustProxy: 2,
      expected: '198.51.100.1',
    },
    {
      name: 'more hops than entries: leftmost',
      headers: { 'x-forwarded-for': '198.51.100.1' },
      socketIp: socket,
      trustProxy: 5,
      expected: '198.51.100.1',
    },
    {
      name: 'hop count picks garbage: socket',
      headers: { 'x-forwarded-for': '198.51.100.1, junk' },
      socketIp: socket,
      trustProxy: 1,
      expected: socket,
    },
    {
      name: 'mapped socket address unwrapped',
      headers: {},
      socketIp: '::ffff:10.0.0.2',
      trustProxy: false,
      expected: socket,
    },
    {
      name: 'no socket address',
      headers: {},
      socketIp: undefined,
      trustProxy: false,
      expected: null,
    },
  ];

  it.each(cases)('$name', ({ headers, socketIp, trustProxy, expected }) => {
    expect(clientIp(headers, socketIp, trustProxy)).toBe(expected);
  });
});
