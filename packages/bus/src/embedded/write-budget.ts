/**
 * Counts journal bytes accepted by `produce()` but not yet written, across
 * every partition of a bus. `produce()` reserves before queueing and the
 * partition log releases after its write settles; when the reservation would
 * go over the limit the caller is told to back off.
 */
export class WriteBudget {
  private queued = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes currently queued or being written. */
  get queuedBytes(): number {
    return this.queued;
  }

  /**
   * Reserves `bytes`; false when that would exceed the limit. A request is
   * always admitted into an empty queue, so one oversized call cannot be
   * refused forever.
   */
  tryReserve(bytes: number): boolean {
    if (this.queued > 0 && this.queued + bytes > this.limitBytes) return false;
    this.queued += bytes;
    return true;
  }

  /** Returns `bytes` once they are written (or failed). */
  release(bytes: number): void {
    this.queued -= bytes;
  }
}
