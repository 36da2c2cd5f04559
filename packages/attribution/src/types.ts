/** One marketing touchpoint of a journey. */
export interface Touch {
  /** The channel name, e.g. `Organic_Search`. Compared exactly (case-sensitive). */
  readonly channel: string;
  /**
   * Milliseconds between this touch and the conversion (or the end of the
   * journey for non-converting paths). Only the time-decay model reads it.
   */
  readonly msBeforeConversion?: number;
}

/** A touchpoint given either as a bare channel name or as a {@link Touch}. */
export type TouchInput = string | Touch;

/**
 * One aggregated, distinct path: every journey that followed exactly this
 * sequence of touches. The models cost O(distinct paths), not O(events).
 */
export interface PathRow {
  /** The ordered touches, first to last; at least one. */
  readonly path: readonly TouchInput[];
  /** Journeys with this path that converted (non-negative; may be fractional). */
  readonly conversions: number;
  /** Total conversion value of those journeys (non-negative; 0 when `conversions` is 0). */
  readonly value: number;
  /** Journeys with this path that did not convert (non-negative). */
  readonly nulls: number;
}

/** A touch after a path transform. */
export interface TransformedTouch {
  /** The channel the touch belongs to; credit goes to it. */
  readonly channel: string;
  /**
   * The token the transform emitted for the touch: the channel name, except
   * under the `frequency` transform, which emits `channel(count)`, e.g. `A(2)`.
   * Paths are compared by their labels.
   */
  readonly label: string;
  /** Carried over from the surviving input touch. */
  readonly msBeforeConversion?: number;
}

/** Credit given to one channel by one model. */
export interface ChannelCredit {
  readonly channel: string;
  /** Attributed conversions. Summed over channels: the total conversions. */
  readonly conversions: number;
  /** Attributed value. Summed over channels: the total value. */
  readonly value: number;
}

/** Input totals, for reconciling model credits. */
export interface AttributionTotals {
  readonly conversions: number;
  readonly value: number;
  readonly nulls: number;
  /** Number of input rows (distinct paths as given, before any transform). */
  readonly rows: number;
  /** Every channel seen in the input, sorted by code unit. */
  readonly channels: readonly string[];
}
