import { CdpError } from '@cdp/core';

/** Settings of {@link createReadinessProbe}. */
export interface ReadinessProbeOptions {
  /** Asks the engine (`SELECT 1` on a connection that runs nothing else). */
  readonly ping: () => Promise<void>;
  /** Milliseconds to wait for that answer before answering from the last known state. */
  readonly timeoutMs: number;
  /** How old the last answer may be and still count (milliseconds). */
  readonly maxAgeMs: number;
  readonly now: () => number;
}

/** The warehouse's readiness, never waiting long behind whatever else runs. */
export interface ReadinessProbe {
  /** Resolves when ready, throws `CDP_ERR_WAREHOUSE_UNAVAILABLE` when not. */
  check(): Promise<void>;
  /** Records that the warehouse just answered a statement. */
  answered(): void;
}

/**
 * `/readyz` for the warehouse. One ping at a time (callers share the one in
 * flight); an engine that gives no answer within `timeoutMs` (a machine
 * whose threads are all busy with long queries) is ready if it answered
 * anything, a ping or a statement, in the last `maxAgeMs`. A failed ping is
 * an answer too: not ready, at once.
 */
export function createReadinessProbe(opts: ReadinessProbeOptions): ReadinessProbe {
  let lastAnswer: number | undefined;
  let inFlight: Promise<void> | undefined;
  const ping = (): Promise<void> => {
    inFlight ??= opts
      .ping()
      .then(() => {
        lastAnswer = opts.now();
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  return {
    answered() {
      lastAnswer = opts.now();
    },
    async check() {
      const pending = ping();
      let timer: NodeJS.Timeout | undefined;
      const slow = new Promise<'slow'>((resolve) => {
        timer = setTimeout(() => resolve('slow'), opts.timeoutMs);
      });
      try {
        if ((await Promise.race([pending, slow])) !== 'slow') return;
      } finally {
        clearTimeout(timer);
      }
      // The ping goes on in the background; its rejection is seen by the
      // next check, which joins or restarts it.
      pending.catch(() => undefined);
      const age = lastAnswer === undefined ? undefined : opts.now() - lastAnswer;
      if (age !== undefined && age <= opts.maxAgeMs) return;
      throw new CdpError('CDP_ERR_WAREHOUSE_UNAVAILABLE', {
        message:
          age === undefined
            ? `The warehouse did not answer a ping within ${opts.timeoutMs} ms`
            : `The warehouse did not answer a ping within ${opts.timeoutMs} ms, nor anything for ${Math.round(age / 1000)} s`,
        retryable: true,
      });
    },
  };
}
