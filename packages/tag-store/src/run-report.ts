/** What a tag run did. */
export interface RunReport {
  readonly runId: number;
  readonly kind: 'full' | 'incremental';
  /** People whose facts were recomputed (all on a full run). */
  readonly people: number;
  /** People whose tags were evaluated: those, the ones due (time moved their tags) and those whose rank moved. */
  readonly evaluated: number;
  /** Tag values that changed (added, changed or removed). */
  readonly changes: number;
  /** People whose tags changed. */
  readonly peopleChanged: number;
  readonly tierChanges: number;
  readonly durationMs: number;
  /** Milliseconds per step. */
  readonly steps: Readonly<Record<string, number>>;
}
