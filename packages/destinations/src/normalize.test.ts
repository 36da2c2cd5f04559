/**
 * Each platform's documented examples (the sources are in RULES), then what
 * the rules imply for values the examples do not cover.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  RULES,
  digitsPhone,
  e164,
  forGoogle,
  forMeta,
  forTiktok,
  googleEmail,
  googleName,
  metaEmail,
  metaLetters,
  metaZip,
  sha256,
  tiktokEmail,
} from './normalize.js';

const hex = (v: string): string => createHash('sha256').update(v).digest('hex');

describe('Google (Data Manager formatting guide)', () => {
  it.each([
    // The guide's two examples.
    ['cloudy.sanfrancisco+shopping@gmail.com', 'cloudysanfrancisco@gmail.com'],
    ['user.name+NYC@Example.com', 'user.name+nyc@example.com'],
    // Whitespace anywhere goes; googlemail.com is gmail too.
    ['  Jane.Doe @ GoogleMail.com ', 'janedoe@googlemail.com'],
    ['not-an-email', undefined],
  ])('email %j -> %j', (raw, want) => expect(googleEmail(raw)).toBe(want));

  it.each([
    // The guide's example: the US number (800)555-0100.
    ['(800)555-0100', 'US', '+18005550100'],
    ['+44 20 7946 0958', undefined, '+442079460958'],
    ['0044 20 7946 0958', 'FR', '+442079460958'],
    ['12', 'US', undefined],
  ])('phone %j (%s) -> %j', (raw, country, want) => expect(e164(raw, country)).toBe(want));

  it('names lose a title or suffix; address only when complete, region and postal code unhashed', () => {
    expect(googleName(' Mrs. Jane ', 'first')).toBe('jane');
    expect(googleName('Doe Jr.', 'last')).toBe('doe');
    const g = forGoogle({
      email: 'cloudy.sanfrancisco+shopping@gmail.com',
      phone: '(800)555-0100',
      firstName: 'Mrs. Jane',
      lastName: 'Doe Jr.',
      country: 'us',
      postalCode: ' 94043 ',
    });
    expect(g).toEqual({
      emailAddress: hex('cloudysanfrancisco@gmail.com'),
      phoneNumber: hex('+18005550100'),
      address: {
        givenName: hex('jane'),
        familyName: hex('doe'),
        regionCode: 'US',
        postalCode: '94043',
      },
    });
    expect(forGoogle({ firstName: 'Jane', country: 'US' })).toEqual({});
  });
});

describe('Meta (custom audiences: hashing and normalising)', () => {
  it.each([
    ['  John_Smith@Gmail.com ', 'john_smith@gmail.com'],
    // Meta keeps gmail dots and +suffixes: only Google folds them.
    ['j.doe+ads@gmail.com', 'j.doe+ads@gmail.com'],
  ])('email %j -> %j', (raw, want) => expect(metaEmail(raw)).toBe(want));

  it.each([
    ['+1 (616) 954-78 88', undefined, '16169547888'],
    ['1(616)954-7888', undefined, '16169547888'],
    ['(616) 954-7888', 'US', '16169547888'],
    ['06 12 34 56 78', 'FR', '33612345678'],
  ])('phone %j (%s) -> %j', (raw, country, want) => expect(digitsPhone(raw, country)).toBe(want));

  it('names and cities are lower-case letters only; ZIP per country', () => {
    expect(metaLetters('Mary-Ann')).toBe('maryann');
    expect(metaLetters('Valéry')).toBe('valéry');
    expect(metaLetters('San Francisco')).toBe('sanfrancisco');
    expect(metaZip('94035-3001', 'US')).toBe('94035');
    expect(metaZip('SW1A 1AA', 'GB')).toBe('sw1a1aa');
  });

  it('a row follows the schema: hashed except EXTERN_ID and MADID, unknown values empty', () => {
    const row = forMeta({
      externalId: 'p-1',
      email: ' John_Smith@Gmail.com ',
      phone: '+1 (616) 954-78 88',
      gender: 'Female',
      birthday: '1990-04-09',
      firstName: 'Mary',
      lastName: "O'Brien",
      city: 'Grand Rapids',
      state: 'MI',
      postalCode: '49503-1234',
      country: 'US',
      madid: 'AECE52E7-03EE-455A-B3C4-E57283966239',
    });
    expect(row).toEqual([
      'p-1',
      hex('john_smith@gmail.com'),
      hex('16169547888'),
      hex('f'),
      hex('1990'),
      hex('04'),
      hex('09'),
      hex('obrien'),
      hex('mary'),
      hex('m'),
      hex('grandrapids'),
      hex('mi'),
      hex('49503'),
      'aece52e7-03ee-455a-b3c4-e57283966239',
      hex('us'),
    ]);
    expect(forMeta({ email: 'a@b.co' }, ['EMAIL', 'PHONE'])).toEqual([hex('a@b.co'), '']);
  });
});

describe('TikTok (supported ids and formats for a customer file)', () => {
  it("gives the help article's hashed examples", () => {
    expect(forTiktok({ email: 'janedoe@gmail.com' }).EMAIL_SHA256).toBe(
      'd6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69',
    );
    // "The international phone number 374-93-828222 is normalized to 37493828222."
    expect(digitsPhone('374-93-828222')).toBe('37493828222');
    expect(forTiktok({ phone: '374-93-828222' }).PHONE_SHA256).toBe(
      '65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4',
    );
    // "The US phone number (657)777-0000 is normalized to 16577770000."
    expect(digitsPhone('(657)777-0000', 'US')).toBe('16577770000');
    expect(forTiktok({ madid: '5f3a2b18-9c4d-4e7f-b8e2-17d3a1e69b25' }, 'idfa')).toEqual({
      IDFA_SHA256: '83dc3f5f32b9472613b0f038d36f22585a609d018af6f6067f50da318bf354bd',
    });
    expect(tiktokEmail(' Jane Doe@Gmail.com')).toBe('janedoe@gmail.com');
  });
});

describe('every platform', () => {
  it('does not hash a value that already is a SHA-256 hex digest', () => {
    const h = hex('jane@example.com');
    expect(sha256(h.toUpperCase())).toBe(h);
    expect(forGoogle({ email: h }).emailAddress).toBe(h);
    expect(forMeta({ email: h }, ['EMAIL'])).toEqual([h]);
    expect(forTiktok({ phone: h }).PHONE_SHA256).toBe(h);
  });

  it('leaves out a value that does not normalise, keeping the rest of the person', () => {
    expect(forGoogle({ email: 'jane@example.com', phone: 'call me' })).toEqual({
      emailAddress: hex('jane@example.com'),
    });
    expect(forTiktok({ email: 'nope', phone: '+16577770000' })).toEqual({
      PHONE_SHA256: hex('16577770000'),
    });
  });

  it('documents a rule with a source for each platform', () => {
    for (const p of ['google', 'meta', 'tiktok'] as const)
      expect(
        RULES.filter((r) => r.platform === p && r.source.startsWith('https://')).length,
      ).toBeGreaterThan(2);
  });
});
