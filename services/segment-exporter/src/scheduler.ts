import type { Logger } from '@cdp/core';
import type { AudienceService } from './service.js';

/** Runs the audiences that are due every `tickMs`, one tick at a time. */
export interface AudienceScheduler {
  start(): void;
  /** Stops the ticks and waits for the one in progress. */
  stop(): Promise<void>;
}

export function createAudienceScheduler(opts: {
  readonly service: AudienceService;
  /** After each round of audience runs (the destinations' syncs). */
  readonly after?: (() => Promise<unknown>) | undefined;
  readonly tickMs: number;
  readonly logger: Logger;
}): AudienceScheduler {
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    if (current || stopped) return;
    current = opts.service
      .runDue()
      .catch((err: unknown) => opts.logger.error({ err }, 'audience_tick_failed'))
      .then(() => opts.after?.())
      .then(() => undefined)
      .catch((err: unknown) => opts.logger.error({ err }, 'audience_tick_failed'))
      .finally(() => {
        current = undefined;
      });
  };
  return {
    start() {
      stopped = false;
      timer ??= setInterval(tick, opts.tickMs);
      timer.unref();
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await current;
    },
  };
}
