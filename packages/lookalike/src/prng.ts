/**
 * The seeded pseudo-random numbers every sampling and shuffling here uses:
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, from
 * PractRand; passes its test battery and BigCrush), its state filled from the
 * seed by splitmix32. Same seed, same sequence, on every platform.
 */
export interface Prng {
  /** A uniform integer in `[0, 2^32)`. */
  nextUint32(): number;
  /** A uniform integer in `[0, n)`, n in `[1, 2^32]`, without modulo bias. */
  below(n: number): number;
}

/** A generator seeded from an integer (any safe integer; its low 53 bits are used). */
export function createPrng(seed: number): Prng {
  // splitmix32 over the seed's two 32-bit halves.
  let x = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const nextUint32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Warm-up: sfc32's first outputs still echo the seed.
  for (let i = 0; i < 12; i++) nextUint32();
  return {
    nextUint32,
    below(n: number): number {
      // Rejection sampling: accept only below the largest multiple of n.
      const limit = 2 ** 32 - (2 ** 32 % n);
      for (;;) {
        const r = nextUint32();
        if (r < limit) return r % n;
      }
    },
  };
}

/** Shuffles `a` in place (Fisher-Yates) with `rng`; returns it. */
export function shuffleInPlace<T extends { [i: number]: number; length: number }>(
  a: T,
  rng: Prng,
): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/**
 * `k` distinct elements of `from`, chosen uniformly with `rng` (a partial
 * Fisher-Yates on a copy), returned sorted ascending. All of them when
 * `k >= from.length`.
 */
export function sampleSorted(from: Int32Array, k: number, rng: Prng): Int32Array {
  if (k >= from.length) return from.slice().sort();
  const a = from.slice();
  for (let i = 0; i < k; i++) {
    const j = i + rng.below(a.length - i);
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a.slice(0, k).sort();
}
