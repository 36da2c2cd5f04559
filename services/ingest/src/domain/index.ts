/**
 * Pure ingest domain: enrichment of Segment-style events (channel, campaign,
 * page fields, clock skew, IP policy, bot detection). No I/O, no clock reads.
 */

export * from './bot.js';
export * from './campaign.js';
export * from './channel.js';
export * from './clock-skew.js';
export * from './enrich.js';
export * from './host.js';
export * from './ip-policy.js';
