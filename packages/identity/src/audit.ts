import type { IdentifierType } from './identifier.js';
import type { AuditReason } from './reason-codes.js';

/** What an audit entry records. */
export type AuditKind = 'merge' | 'refusal' | 'split' | 'delete';

/**
 * One row of the `identity_audit` table. Holds no personal data: identifiers
 * appear only as their type and the SHA-256 hex of their normalised value.
 *
 * | kind      | oneId                         | otherId                              | identifier            |
 * | --------- | ----------------------------- | ------------------------------------ | --------------------- |
 * | `merge`   | the survivor                  | the person merged into it            | -                     |
 * | `refusal` | the person the event resolved to | the person the identifier belongs to, if any | the refused one |
 * | `split`   | the person split              | the new person                       | one moved identifier  |
 * | `delete`  | the deleted person            | -                                    | -                     |
 */
export interface AuditEntry {
  /** Epoch ms of the event or operation (never a clock read). */
  readonly at: number;
  readonly kind: AuditKind;
  readonly oneId: string;
  readonly otherId?: string;
  readonly identifierType?: IdentifierType;
  /** SHA-256 hex of the identifier's normalised value (for email and phone: the stored value). */
  readonly identifierHash?: string;
  readonly reason: AuditReason;
  /** For `limit_exceeded`: the type whose limit would have been broken. */
  readonly limitType?: IdentifierType;
  /** The event behind a merge or refusal, when given. */
  readonly messageId?: string;
}
