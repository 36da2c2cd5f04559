/**
 * Each ad platform's own customer-list upload file, for marketers who upload
 * by hand: Google Customer Match's CSV (Email, Phone, First Name, Last Name,
 * Country, Zip: email, phone and names SHA-256 hashed as Google normalises
 * them, country and zip as they are) and Meta's customer list CSV (its
 * identifier columns, every value hashed as Meta normalises it but
 * extern_id and madid). One row per person; a person with nothing to match
 * on has no row.
 */
import { googleMember, metaRow, type MetaKey, type PersonData } from '@cdp/destinations';
import { META_DEFAULT_SCHEMA } from './ad-config.js';

export type PlatformFileFormat = 'google_customer_match' | 'meta_custom_audience';

const META_FILE_KEYS: readonly MetaKey[] = [...META_DEFAULT_SCHEMA, 'MADID'];

export const PLATFORM_FILE_HEADERS: Record<PlatformFileFormat, readonly string[]> = {
  google_customer_match: ['Email', 'Phone', 'First Name', 'Last Name', 'Country', 'Zip'],
  meta_custom_audience: META_FILE_KEYS.map((k) => k.toLowerCase()),
};

/** The person's row in `format`'s file, or undefined (nothing to match on). */
export function platformFileRows(format: PlatformFileFormat, p: PersonData): string[] | undefined {
  if (format === 'meta_custom_audience') return metaRow(p, META_FILE_KEYS);
  const m = googleMember(p);
  if (!m) return undefined;
  const ids = m.userData.userIdentifiers;
  const email = ids.find((i) => 'emailAddress' in i);
  const phone = ids.find((i) => 'phoneNumber' in i);
  const address = ids.find((i) => 'address' in i);
  const a = address && 'address' in address ? address.address : undefined;
  return [
    email && 'emailAddress' in email ? email.emailAddress : '',
    phone && 'phoneNumber' in phone ? phone.phoneNumber : '',
    a?.givenName ?? '',
    a?.familyName ?? '',
    a?.regionCode ?? '',
    a?.postalCode ?? '',
  ];
}
