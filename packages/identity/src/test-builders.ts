// Builders for the tests (not part of the build): Segment calls as they sit
// on `cdp.events.raw`, and a harness that extracts and resolves them in order.
import { extractIdentifiers, type RawEventMessage } from './extract.js';
import { createIdentityGraph } from './graph.js';
import type { IdentityGraph, ResolveKind, ResolveOutcome } from './graph-types.js';
import type { Identifier } from './identifier.js';
import { normaliseIdentifier } from './normalise.js';
import { createIdentityRules, type IdentityRules, type IdentityRulesInput } from './rules.js';

/** A `cdp.events.raw` message around a Segment call. */
export interface Message extends RawEventMessage {
  readonly type: ResolveKind;
  readonly event: Readonly<Record<string, unknown>>;
}

export const page = (anonymousId: string, extra: Record<string, unknown> = {}): Message => ({
  type: 'page',
  event: { anonymousId, ...extra },
});

export const track = (event: Record<string, unknown>): Message => ({ type: 'track', event });

export const identify = (
  userId: string,
  anonymousId: string | undefined,
  traits: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Message => ({
  type: 'identify',
  event: { userId, ...(anonymousId === undefined ? {} : { anonymousId }), traits, ...extra },
});

export const alias = (userId: string, previousId: string, anonymousId?: string): Message => ({
  type: 'alias',
  event: { userId, previousId, ...(anonymousId === undefined ? {} : { anonymousId }) },
});

/** A device context: `context.device.id`. */
export const device = (id: string): Record<string, unknown> => ({ context: { device: { id } } });

/** The stored identifier of a raw value; fails the test if it does not normalise. */
export function ident(type: string, raw: string, rules?: IdentityRules): Identifier {
  const res = normaliseIdentifier(type, raw, rules);
  if (!res.ok) throw new Error(`${type} ${raw} does not normalise: ${res.reason}`);
  return res.identifier;
}

/** A graph plus a clock: `send` extracts and resolves messages one tick apart. */
export class Harness {
  readonly rules: IdentityRules;
  readonly graph: IdentityGraph;
  readonly outcomes: ResolveOutcome[] = [];
  private clock = 1_700_000_000_000;

  constructor(rules: IdentityRulesInput = {}, graph?: IdentityGraph) {
    this.rules = createIdentityRules(rules);
    this.graph = graph ?? createIdentityGraph(this.rules);
  }

  send(message: Message, at?: number): ResolveOutcome {
    this.clock += 1000;
    const x = extractIdentifiers(message, this.rules);
    const outcome = this.graph.resolve({
      ...x,
      at: at ?? this.clock,
      kind: message.type,
      messageId: `m${this.outcomes.length + 1}`,
    });
    this.outcomes.push(outcome);
    return outcome;
  }

  /** The person of a raw identifier (`undefined` if unknown). */
  who(type: string, raw: string): string | undefined {
    return this.graph.lookup(ident(type, raw, this.rules));
  }
}
