import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fcParameters, fcSeed } from './fast-check.js';
import { freePort } from './free-port.js';
import { tempDir } from './temp-dir.js';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the value once a predicate holds', async () => {
    let n = 0;
    await expect(waitFor(() => ++n >= 3 && n, { intervalMs: 1 })).resolves.toBe(3);
  });

  it('retries assertions that throw', async () => {
    let n = 0;
    await waitFor(
      () => {
        n++;
        expect(n).toBe(4);
      },
      { intervalMs: 1 },
    );
    expect(n).toBe(4);
  });

  it('gives up after timeoutMs with the last failure in the message', async () => {
    await expect(
      waitFor(
        () => {
          throw new Error('still 2 rows');
        },
        { timeoutMs: 30, intervalMs: 5, what: 'rows' },
      ),
    ).rejects.toThrow(/waitFor \(rows\): gave up after 30 ms .*still 2 rows/);
  });
});

describe('tempDir', () => {
  it('makes a fresh directory and removes it', async () => {
    const dir = await tempDir('testkit-test');
    await writeFile(dir.join('a.txt'), 'x');
    expect(existsSync(dir.join('a.txt'))).toBe(true);
    await dir.remove();
    await dir.remove();
    expect(existsSync(dir.path)).toBe(false);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    server.close();
    expect(port).toBeGreaterThan(0);
  });
});

describe('fast-check seeds', () => {
  it('takes FC_SEED and FC_RUNS when set', () => {
    expect(fcParameters({ numRuns: 5 }, { FC_SEED: '42' })).toEqual({ numRuns: 5, seed: 42 });
    expect(fcParameters({ numRuns: 5 }, { FC_SEED: '-7', FC_RUNS: '300' })).toEqual({
      numRuns: 300,
      seed: -7,
    });
  });

  it('draws one seed per process otherwise', () => {
    const seed = fcSeed({});
    expect(Number.isSafeInteger(seed)).toBe(true);
    expect(fcSeed({ FC_SEED: '' })).toBe(seed);
    expect(fcParameters({}, {})).toEqual({ seed });
  });

  it('refuses a seed or run count that is not an integer', () => {
    expect(() => fcSeed({ FC_SEED: 'abc' })).toThrow(/FC_SEED must be an integer/);
    expect(() => fcParameters({}, { FC_RUNS: '1.5' })).toThrow(/FC_RUNS must be an integer/);
    expect(() => fcParameters({}, { FC_RUNS: '0' })).toThrow(/FC_RUNS must be at least 1/);
  });
});
