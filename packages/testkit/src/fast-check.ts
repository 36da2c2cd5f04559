/**
 * Seeds for fast-check property tests, the same way in every package: a
 * random seed per test process, printed, or `FC_SEED` to replay one (a
 * failure's message also names its seed); `FC_RUNS` changes how many runs.
 *
 *   fc.assert(property, fcParameters({ numRuns: 100 }));
 *   fc.sample(arbitrary, { seed: fcSeed(), numRuns: 80 });
 */

let drawn: number | undefined;
const printed = new Set<number>();

function intFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer (got "${raw}")`);
  return n;
}

/**
 * The seed to run with: `FC_SEED` when set, else one drawn at random once per
 * process. Printed the first time it is used, so a run that passed can be
 * replayed as well as one that failed.
 */
export function fcSeed(env: NodeJS.ProcessEnv = process.env): number {
  const seed = intFrom(env, 'FC_SEED') ?? (drawn ??= Math.floor(Math.random() * 0x7fffffff));
  if (!printed.has(seed)) {
    printed.add(seed);
    console.log(`[fast-check] seed ${seed} (replay: FC_SEED=${seed})`);
  }
  return seed;
}

/** `params` with the seed of {@link fcSeed}, and `numRuns` from `FC_RUNS` when set. */
export function fcParameters<P extends { readonly numRuns?: number }>(
  params: P = {} as P,
  env: NodeJS.ProcessEnv = process.env,
): P & { seed: number } {
  const runs = intFrom(env, 'FC_RUNS');
  if (runs !== undefined && runs < 1) throw new Error(`FC_RUNS must be at least 1 (got ${runs})`);
  return { ...params, seed: fcSeed(env), ...(runs === undefined ? {} : { numRuns: runs }) };
}
