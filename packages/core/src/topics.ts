/** Every topic name, in one place. Names carry a configurable prefix (default `cdp.`). */
export const TOPIC_SUFFIXES = {
  eventsRaw: 'events.raw',
  eventsInvalid: 'events.invalid',
  eventsResolved: 'events.resolved',
  identityMerges: 'identity.merges',
  profilesTags: 'profiles.tags',
  segmentsChanges: 'segments.changes',
} as const;

export type TopicKey = keyof typeof TOPIC_SUFFIXES;
export type Topics = Readonly<Record<TopicKey, string>>;

/** Topic names for a prefix, e.g. `topics('cdp.').eventsRaw === 'cdp.events.raw'`. */
export function topics(prefix = 'cdp.'): Topics {
  const out = {} as Record<TopicKey, string>;
  for (const [k, v] of Object.entries(TOPIC_SUFFIXES)) out[k as TopicKey] = prefix + v;
  return Object.freeze(out);
}
