import type { FeatureSpec } from './raw-features.js';

/**
 * The features of a person the exporter builds lookalikes from: the built-in
 * tags (RFM, lifecycle, churn risk, tier, spending power, preferred channel,
 * top categories) and behaviour from `events_by_person` (recency, activity,
 * channels, device). Absent values (no purchase yet: no RFM) are missing,
 * which the encoding keeps as its own column: "has never bought" is a
 * feature too. The exporter's scratch table `lookalike_features`
 * (warehouse migration 013) has a column for each: a feature added here
 * needs a migration adding its column.
 */
export const PERSON_FEATURES: readonly FeatureSpec[] = [
  { name: 'recency_days', kind: 'numeric', transform: 'log1p' },
  { name: 'frequency', kind: 'numeric', transform: 'log1p' },
  { name: 'monetary', kind: 'numeric', transform: 'log1p' },
  { name: 'r_score', kind: 'numeric', bins: 0 },
  { name: 'f_score', kind: 'numeric', bins: 0 },
  { name: 'm_score', kind: 'numeric', bins: 0 },
  { name: 'days_since_last_event', kind: 'numeric', transform: 'log1p' },
  { name: 'events_90d', kind: 'numeric', transform: 'log1p' },
  { name: 'rfm_group', kind: 'categorical' },
  { name: 'lifecycle', kind: 'categorical' },
  { name: 'churn_risk', kind: 'categorical' },
  { name: 'member_tier', kind: 'categorical' },
  { name: 'spending_power', kind: 'categorical' },
  { name: 'preferred_channel', kind: 'categorical' },
  { name: 'device', kind: 'categorical' },
  { name: 'top_categories', kind: 'multi' },
  { name: 'channels', kind: 'multi' },
];
