import { extractIdentifiers, type RawEventMessage } from './extract.js';
import type { Identifier } from './identifier.js';
import type { ResolveKind } from './graph-types.js';
import type { ResolveLink } from './messages.js';
import type { IdentityRules } from './rules.js';
import { stampOneId } from './stamp.js';

const KINDS: ReadonlySet<string> = new Set([
  'track',
  'identify',
  'page',
  'screen',
  'group',
  'alias',
]);

/** What stamping decided for one event. */
export interface EventStamp {
  /** The `one_id` to store with the event; `''` when it has no usable identifier. */
  readonly oneId: string;
  readonly provisional: boolean;
  /**
   * The link to send to the resolver, when the event may change the graph:
   * an identifier the stamper does not know, identifiers of more than one
   * person, or an alias. `undefined` when everything is already settled.
   */
  readonly link: ResolveLink | undefined;
  /**
   * Whether the stamp may be wrong (known and unknown identifiers together):
   * the caller then puts the event's own message into `link.event`, so the
   * resolver can publish it again with its answer.
   */
  readonly uncertain: boolean;
}

export interface StampEventOptions {
  readonly rules: IdentityRules;
  /** The stamper's view of the graph: the person of an identifier, if known. */
  readonly lookup: (identifier: Identifier) => string | undefined;
  readonly isTaken?: ((oneId: string) => boolean) | undefined;
}

/**
 * Stamps one event (a `cdp.events.raw` message or its parts): extracts and
 * normalises its identifiers, gives it the person of its highest-priority
 * known identifier or the deterministic provisional id, and says whether the
 * resolver must see it. Pure apart from `lookup`; shared by every stamper
 * (the identity service's, and ingest's in the all-in-one runner).
 */
export function stampEvent(
  message: RawEventMessage & { readonly messageId: string; readonly at: number },
  options: StampEventOptions,
): EventStamp {
  const ids = extractIdentifiers(message, options.rules);
  if (ids.identifiers.length === 0) {
    return { oneId: '', provisional: false, link: undefined, uncertain: false };
  }
  const stamp = stampOneId(ids.identifiers, options.lookup, {
    rules: options.rules,
    ...(options.isTaken ? { isTaken: options.isTaken } : {}),
  });
  const oneId = stamp?.oneId ?? '';
  let unknown = 0;
  let other = false;
  for (const i of ids.identifiers) {
    const p = options.lookup(i);
    if (p === undefined) unknown++;
    else if (p !== oneId) other = true;
  }
  const hasJunk = Object.keys(ids.junk).length > 0;
  // Junk goes to the resolver too, which counts it.
  if (ids.previousId === undefined && unknown === 0 && !other && !hasJunk) {
    return { oneId, provisional: false, link: undefined, uncertain: false };
  }
  const kind = typeof message.type === 'string' && KINDS.has(message.type) ? message.type : 'track';
  return {
    oneId,
    provisional: stamp?.provisional ?? true,
    uncertain:
      ids.previousId !== undefined || other || (unknown > 0 && unknown < ids.identifiers.length),
    link: {
      op: 'resolve',
      messageId: message.messageId,
      at: message.at,
      kind: kind as ResolveKind,
      identifiers: ids.identifiers,
      ...(ids.previousId !== undefined ? { previousId: ids.previousId } : {}),
      stamped: oneId,
      ...(hasJunk ? { junk: ids.junk } : {}),
    },
  };
}
