import type { Campaign } from './types.js';

/** Ad click ids kept in `context.campaign` as they are named in the URL. */
export const CLICK_IDS: readonly string[] = [
  'gclid',
  'fbclid',
  'ttclid',
  'msclkid',
  'dclid',
  'wbraid',
  'gbraid',
  'twclid',
  'li_fat_id',
];

/**
 * The campaign of a URL query: every `utm_*` parameter without its prefix
 * (`utm_campaign` as `name`, Segment's naming) and the {@link CLICK_IDS}.
 * Parameter names are matched case-insensitively; the first non-empty value
 * wins. `undefined` when the query has none of them.
 */
export function parseCampaign(search: string): Campaign | undefined {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  new URLSearchParams(search).forEach((value, name) => {
    const key = name.toLowerCase();
    let field: string | undefined;
    if (key.startsWith('utm_') && key.length > 4)
      field = key === 'utm_campaign' ? 'name' : key.slice(4);
    else if (CLICK_IDS.includes(key)) field = key;
    if (field === undefined || value === '' || seen.has(field)) return;
    seen.add(field);
    entries.push([field, value]);
  });
  // fromEntries defines own properties, so a `utm___proto__` parameter stays data.
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}
