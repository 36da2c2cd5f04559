/**
 * The worker thread of {@link expandLookalikeInWorker}: one expansion per
 * message, answered with the result (its arrays transferred) or the error.
 */
import { parentPort } from 'node:worker_threads';
import { isLookalikeError } from './errors.js';
import { expandLookalike, type ExpandInput, type ExpandOptions } from './expand.js';

parentPort?.on('message', (msg: { input: ExpandInput; opts: ExpandOptions }) => {
  try {
    const x = expandLookalike(msg.input, msg.opts);
    parentPort?.postMessage({ ok: true, x }, [
      x.selected.buffer as ArrayBuffer,
      x.scores.buffer as ArrayBuffer,
    ]);
  } catch (e) {
    parentPort?.postMessage({
      ok: false,
      error: isLookalikeError(e)
        ? { lookalike: true, code: e.code, issues: e.issues }
        : { lookalike: false, message: e instanceof Error ? e.message : String(e) },
    });
  }
});
