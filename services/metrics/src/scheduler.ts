import type { Logger } from '@cdp/core';
import type { AlertService } from './alerts.js';

export interface AlertScheduler {
  start(): void;
  stop(): Promise<void>;
}

/** Evaluates the alert rules every `intervalMs` (default 60 s): one tick at a time, never overlapping. */
export function createAlertScheduler(opts: {
  readonly alerts: AlertService;
  readonly logger: Logger;
  readonly intervalMs?: number;
}): AlertScheduler {
  const every = opts.intervalMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    if (running || stopped) return;
    running = (async () => {
      try {
        const r = await opts.alerts.tick();
        if (r.transitions > 0 || r.notified > 0) opts.logger.info(r, 'alerts_evaluated');
        else opts.logger.debug(r, 'alerts_evaluated');
      } catch (err) {
        opts.logger.warn({ err }, 'alerts_tick_failed');
      } finally {
        running = undefined;
      }
    })();
  };
  return {
    start() {
      if (timer) return;
      timer = setInterval(tick, every);
      timer.unref();
      tick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
      // Another evaluator (or this one, restarted) takes over at once.
      await opts.alerts
        .release()
        .catch((err: unknown) => opts.logger.warn({ err }, 'alerts_lease_release_failed'));
    },
  };
}
