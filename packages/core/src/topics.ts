/** Every topic name, in one place. Names carry a configurable prefix (default `cdp.`). */
export const TOPIC_SUFFIXES = {
  eventsRaw: 'events.raw',
  eventsInvalid: 'events.invalid',
  eventsResolved: 'events.resolved',
  identityLinks: 'identity.links',
  identityMerges: 'identity.merges',
  identityChanges: 'identity.changes',
  profilesTags: 'profiles.tags',
  audiencesChanges: 'audiences.changes',
} as const;

export type TopicKey = keyof typeof TOPIC_SUFFIXES;
export type Topics = Readonly<Record<TopicKey, string>>;

/** Topic names for a prefix, e.g. `topics('cdp.').eventsRaw === 'cdp.events.raw'`. */
export function topics(prefix = 'cdp.'): Topics {
  const out = {} as Record<TopicKey, string>;
  for (const [k, v] of Object.entries(TOPIC_SUFFIXES)) out[k as TopicKey] = prefix + v;
  return Object.freeze(out);
}

/**
 * The topics the platform creates at start: the event topics with the
 * configured partitions; the dead-letter topic with one (it is small, and one
 * partition keeps dead letters in arrival order); the identity links topic
 * with exactly one, because link decisions must be taken in one order by one
 * resolver; the merges topic with one (merges apply in order); and the
 * identity changes topic with one (every stamper reads all of it to drop
 * what its cache knows of people the resolver merged, split or erased).
 */
export function backboneTopicSpecs(
  prefix: string,
  partitions: number,
): { name: string; partitions: number }[] {
  const t = topics(prefix);
  return [
    { name: t.eventsRaw, partitions },
    { name: t.eventsResolved, partitions },
    { name: t.eventsInvalid, partitions: 1 },
    { name: t.identityLinks, partitions: 1 },
    { name: t.identityMerges, partitions: 1 },
    { name: t.identityChanges, partitions: 1 },
  ];
}

/**
 * The source id of events the platform derives itself (`Tier Upgraded`,
 * later `Audience Entered`): they land in `events` like any other, but are
 * not a person's own activity, so person-level facts leave them out.
 */
export const DERIVED_SOURCE_ID = 'cdp-derived';
