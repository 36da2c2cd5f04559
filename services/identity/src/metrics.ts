import { Counter, Gauge, type Registry } from 'prom-client';

/** Prometheus metrics of the identity service. */
export interface IdentityMetrics {
  readonly stamped: Counter<'kind'>;
  readonly links: Counter;
  readonly merges: Counter<'reason'>;
  readonly refusals: Counter<'reason'>;
  readonly junk: Counter<'reason'>;
  readonly restamps: Counter;
  readonly badMessages: Counter;
  readonly changesRead: Counter;
  readonly persons: Gauge;
  readonly identifiers: Gauge;
}

export function createIdentityMetrics(registry?: Registry): IdentityMetrics {
  const registers = registry ? [registry] : [];
  return {
    stamped: new Counter({
      name: 'cdp_identity_stamped_total',
      help: 'Events stamped with a one_id, by kind (known, provisional, none)',
      labelNames: ['kind'],
      registers,
    }),
    links: new Counter({
      name: 'cdp_identity_links_total',
      help: 'Identifier links the resolver applied',
      registers,
    }),
    merges: new Counter({
      name: 'cdp_identity_merges_total',
      help: 'Persons merged, by reason',
      labelNames: ['reason'],
      registers,
    }),
    refusals: new Counter({
      name: 'cdp_identity_refusals_total',
      help: 'Identifiers not linked, by reason (limits, user id conflicts, split blocks, invalid values)',
      labelNames: ['reason'],
      registers,
    }),
    junk: new Counter({
      name: 'cdp_identity_junk_total',
      help: 'Junk identifier values that linked nothing, by reason',
      labelNames: ['reason'],
      registers,
    }),
    restamps: new Counter({
      name: 'cdp_identity_restamps_total',
      help: 'Events whose stamp named another person than the resolver chose',
      registers,
    }),
    badMessages: new Counter({
      name: 'cdp_identity_bad_messages_total',
      help: 'Bus messages the identity service could not read',
      registers,
    }),
    changesRead: new Counter({
      name: 'cdp_identity_stamper_changes_read_total',
      help: 'People a stamper dropped from its cache because the resolver merged, split or erased them',
      registers,
    }),
    persons: new Gauge({
      name: 'cdp_identity_persons',
      help: 'Live persons in the resolver graph',
      registers,
    }),
    identifiers: new Gauge({
      name: 'cdp_identity_identifiers',
      help: 'Identifiers in the resolver graph',
      registers,
    }),
  };
}
