import { PERSON_FEATURES } from './person-features.js';
import { createPrng, type Prng } from './prng.js';
import { createFeatureBuilder, type RawFeatures } from './raw-features.js';

/**
 * A synthetic population with planted groups, to measure lookalike quality
 * on data whose answer is known: every person belongs to one of `groups`
 * groups; each group has its own profile (favourite categories and
 * channels, device, spend and activity levels, purchase habits), and a
 * person follows their group's profile only with probability `affinity`
 * (else draws that feature at random), so groups overlap and no single
 * feature gives a person's group away. Group 0 is the planted one (a
 * `plantedShare` of everyone); the rest share the others equally. Features
 * are those of {@link PERSON_FEATURES}, with the value shapes the exporter's
 * warehouse query gives.
 */
export interface SyntheticOptions {
  readonly size: number;
  /** Groups, the planted one included (default 8). */
  readonly groups?: number;
  /** The planted group's share of everyone (default 0.02). */
  readonly plantedShare?: number;
  /** The chance a feature follows the person's group (default 0.5). */
  readonly affinity?: number;
  readonly seed?: number;
}

export interface SyntheticPopulation {
  readonly features: RawFeatures;
  /** Each person's group (0: planted). */
  readonly group: Uint8Array;
}

const CATEGORIES = ['shoes', 'shirts', 'bags', 'hats', 'socks', 'jackets', 'watches', 'toys'];
const CHANNELS = [
  'Direct',
  'Organic Search',
  'Paid Search',
  'Email',
  'Organic Social',
  'Referral',
  'Display',
  'Affiliates',
];
const DEVICES = ['desktop', 'mobile', 'tablet'];
const TIERS = ['Bronze', 'Silver', 'Gold', 'Platinum'];
const LEVELS = ['low', 'medium', 'high'];
const RFM_GROUPS = [
  'Champions',
  'Loyal Customers',
  'Potential Loyalist',
  'New Customers',
  'Promising',
  'Need Attention',
  'About To Sleep',
  'At Risk',
  'Cannot Lose Them',
  'Hibernating',
  'Lost',
];

interface Profile {
  readonly categories: readonly [number, number];
  readonly channels: readonly [number, number];
  readonly device: number;
  readonly buyer: number;
  readonly spend: number;
  readonly activity: number;
  readonly recency: number;
  readonly rfmGroup: number;
}

const unit = (rng: Prng): number => rng.nextUint32() / 2 ** 32;
/** A standard normal (sum of four uniforms, rescaled: cheap and smooth enough). */
const normal = (rng: Prng): number =>
  (unit(rng) + unit(rng) + unit(rng) + unit(rng) - 2) * Math.sqrt(3);

function profileOf(g: number, rng: Prng): Profile {
  const two = (n: number): [number, number] => {
    const a = rng.below(n);
    return [a, (a + 1 + rng.below(n - 1)) % n];
  };
  return {
    categories: two(CATEGORIES.length),
    channels: two(CHANNELS.length),
    device: rng.below(DEVICES.length),
    buyer: 0.3 + 0.5 * unit(rng),
    spend: 3 + 2.5 * unit(rng),
    activity: 1 + 2.5 * unit(rng),
    recency: 1.5 + 3 * unit(rng),
    rfmGroup: g % RFM_GROUPS.length,
  };
}

/** A synthetic population (see {@link SyntheticOptions}); the same options give the same people. */
export function syntheticPopulation(opts: SyntheticOptions): SyntheticPopulation {
  const size = opts.size;
  const groups = opts.groups ?? 8;
  const planted = opts.plantedShare ?? 0.02;
  const affinity = opts.affinity ?? 0.5;
  const rng = createPrng(opts.seed ?? 7);
  const profiles = Array.from({ length: groups }, (_, g) => profileOf(g, rng));
  const builder = createFeatureBuilder(PERSON_FEATURES, { capacity: size });
  const group = new Uint8Array(size);
  const rec: Record<string, number | string | string[] | null> = {};
  const follows = (): boolean => unit(rng) < affinity;
  for (let i = 0; i < size; i++) {
    const g = unit(rng) < planted ? 0 : 1 + rng.below(groups - 1);
    group[i] = g;
    const p = profiles[g] as Profile;
    const buyer = unit(rng) < (follows() ? p.buyer : 0.5);
    const activity = follows() ? p.activity : 2.25;
    rec['days_since_last_event'] = Math.round(
      Math.exp((follows() ? p.recency : 3) + 0.8 * normal(rng)),
    );
    rec['events_90d'] = Math.max(0, Math.round(Math.exp(activity + 0.7 * normal(rng)) - 1));
    if (buyer) {
      const frequency = 1 + Math.floor(Math.exp(0.6 * activity + 0.5 * normal(rng)) - 1);
      const spend = Math.exp((follows() ? p.spend : 4.25) + 0.6 * normal(rng));
      rec['recency_days'] = Math.round(
        Math.exp((follows() ? p.recency + 0.8 : 3.8) + 0.8 * normal(rng)),
      );
      rec['frequency'] = frequency;
      rec['monetary'] = Math.round(frequency * spend * 100) / 100;
      rec['r_score'] = 1 + rng.below(5);
      rec['f_score'] = Math.min(5, frequency);
      rec['m_score'] = Math.min(5, Math.max(1, Math.round(spend / 40)));
      rec['rfm_group'] = RFM_GROUPS[
        follows() ? p.rfmGroup : rng.below(RFM_GROUPS.length)
      ] as string;
      rec['member_tier'] = TIERS[
        Math.min(3, Math.floor(Math.log10(1 + frequency * spend)))
      ] as string;
      rec['spending_power'] = LEVELS[
        follows() ? Math.min(2, Math.floor((p.spend - 3) / 0.84)) : rng.below(3)
      ] as string;
      rec['lifecycle'] =
        follows() && p.recency < 2.5
          ? 'active'
          : (['new', 'active', 'at_risk', 'churned'][rng.below(4)] as string);
    } else {
      for (const k of ['recency_days', 'frequency', 'monetary', 'r_score', 'f_score', 'm_score'])
        rec[k] = null;
      rec['rfm_group'] = null;
      rec['member_tier'] = null;
      rec['spending_power'] = null;
      rec['lifecycle'] = 'prospect';
    }
    const dsl = rec['days_since_last_event'];
    rec['churn_risk'] = dsl >= 30 ? 'high' : dsl >= 14 ? 'medium' : 'low';
    const chA = follows() ? p.channels[0] : rng.below(CHANNELS.length);
    const chB = follows() ? p.channels[1] : rng.below(CHANNELS.length);
    rec['preferred_channel'] = CHANNELS[chA] as string;
    rec['channels'] = [CHANNELS[chA] as string, CHANNELS[chB] as string];
    rec['device'] = DEVICES[follows() ? p.device : rng.below(DEVICES.length)] as string;
    const cats: string[] = [];
    if (unit(rng) < 0.7)
      cats.push(CATEGORIES[follows() ? p.categories[0] : rng.below(8)] as string);
    if (unit(rng) < 0.5)
      cats.push(CATEGORIES[follows() ? p.categories[1] : rng.below(8)] as string);
    rec['top_categories'] = cats;
    builder.add(rec);
  }
  return { features: builder.finish(), group };
}
