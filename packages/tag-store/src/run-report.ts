/** What a tag run did. */
export interface RunReport {
  readonly runId: number;
  readonly kind: 'full' | 'incremental';
  /** People whose facts were recomputed (all on a full run). */
  readonly people: number;
  /** Tag values that changed (added, changed or removed). */
  readonly changes: number;
  /** People whose tags changed. */
  readonly peopleChanged: number;
  readonly tierChanges: number;
  readonly durationMs: number;
  /** Milliseconds per step. */
  readonly steps: Readonly<Record<string, number>>;
}
