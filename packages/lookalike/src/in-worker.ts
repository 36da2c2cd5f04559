import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { LookalikeError, type LookalikeErrorCode, type LookalikeIssue } from './errors.js';
import { expandLookalike, type ExpandInput, type ExpandOptions, type Expansion } from './expand.js';

/** The built worker: `dist/worker.js`, from `src/` (tests) and from `dist/` alike. */
const WORKER = fileURLToPath(new URL('../dist/worker.js', import.meta.url));

type Answer =
  | { ok: true; x: Expansion }
  | {
      ok: false;
      error:
        | { lookalike: true; code: LookalikeErrorCode; issues: LookalikeIssue[] }
        | { lookalike: false; message: string };
    };

/**
 * {@link expandLookalike} on a worker thread, so that training and scoring
 * (seconds at a million people) do not hold the caller's event loop (the
 * all-in-one runner serves ingest on it). The input's arrays are
 * transferred, not copied: the caller must not use `input` afterwards.
 * Without the built worker (a source checkout before `npm run build`), it
 * runs in this thread.
 */
export async function expandLookalikeInWorker(
  input: ExpandInput,
  opts: ExpandOptions,
): Promise<Expansion> {
  if (!existsSync(WORKER)) return expandLookalike(input, opts);
  const buffers = new Set<ArrayBuffer>();
  const add = (a: { buffer: ArrayBufferLike }): void => {
    if (a.buffer instanceof ArrayBuffer) buffers.add(a.buffer);
  };
  add(input.seed);
  add(input.eligible);
  for (const c of input.features.columns) {
    if (c.kind === 'numeric') add(c.values);
    else if (c.kind === 'categorical') add(c.codes);
    else {
      add(c.offsets);
      add(c.codes);
    }
  }
  const worker = new Worker(WORKER);
  try {
    const answer = await new Promise<Answer>((resolve, reject) => {
      worker.once('message', (m: Answer) => resolve(m));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the lookalike worker exited (${code})`)));
      worker.postMessage({ input, opts }, [...buffers]);
    });
    if (answer.ok) return answer.x;
    if (answer.error.lookalike) throw new LookalikeError(answer.error.code, answer.error.issues);
    throw new Error(answer.error.message);
  } finally {
    await worker.terminate();
  }
}
