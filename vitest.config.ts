import { defineConfig } from 'vitest/config';

// Tests import workspace packages from their TypeScript sources (the `source`
// export condition), so `vitest` needs no build; tests that spawn the CLI use
// the built `dist/` (`npm test` builds first).
const resolve = { conditions: ['source', 'node', 'import', 'default'] };

export default defineConfig({
  resolve,
  ssr: { resolve: { conditions: resolve.conditions, externalConditions: ['source'] } },
  test: {
    projects: [
      {
        resolve,
        ssr: { resolve: { conditions: resolve.conditions } },
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            // The bench figures check (bench/figures.mjs --check).
            'bench/**/*.test.mjs',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        resolve,
        ssr: { resolve: { conditions: resolve.conditions } },
        test: {
          name: 'int',
          // Runs after the unit project, with its own worker limit.
          sequence: { groupOrder: 1 },
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'test/**/*.int.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['packages/testkit/src/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          // chDB binds one data directory per process, and the 2-core machine
          // runs a JVM broker beside the tests: keep files apart in forks.
          pool: 'forks',
          fileParallelism: true,
          maxWorkers: 2,
        },
      },
    ],
  },
});
