// ESLint: type-aware rules from typescript-eslint, plus the boundaries of
// STYLE.md: only adapter modules may import kafkajs, @clickhouse/client or chdb.
import tseslint from 'typescript-eslint';

const adapterOnly = [
  {
    name: 'kafkajs',
    message: 'Only the Kafka bus adapter (packages/bus/src/kafka) talks to kafkajs.',
  },
  {
    name: '@clickhouse/client',
    message: 'Only the warehouse adapter talks to @clickhouse/client.',
  },
  { name: 'chdb', message: 'Only the warehouse adapter talks to chDB.' },
  { name: 'chdb/connection', message: 'Only the warehouse adapter talks to chDB.' },
];
// Services do not import each other: what two need lives in a package
// (sources, http, analytics); only the all-in-one runner mounts several.
const noService = (self, others) => [
  'error',
  {
    paths: [
      ...adapterOnly,
      ...others.map((name) => ({
        name,
        message: `${self} does not import another service: move what both need to a package.`,
      })),
    ],
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.cache/**',
      '.cdp-data/**',
      'bench/**',
      '**/*.mjs',
      '**/*.config.ts',
      'eslint.config.js',
    ],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/only-throw-error': 'off',
      // fastify handlers and test doubles are async by contract, with or without an await.
      '@typescript-eslint/require-await': 'off',
      'no-restricted-imports': ['error', { paths: adapterOnly }],
    },
  },
  {
    // The console's browser app is type-checked with its own tsconfig (DOM, JSX).
    files: ['packages/console/app/**'],
    languageOptions: {
      parserOptions: {
        project: ['./packages/console/app/tsconfig.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    files: ['services/ingest/src/**'],
    rules: {
      'no-restricted-imports': noService('ingest', [
        '@cdp/api',
        '@cdp/loader',
        '@cdp/identity-service',
        '@cdp/tag-engine',
      ]),
    },
  },
  {
    files: ['services/api/src/**'],
    rules: {
      'no-restricted-imports': noService('api', [
        '@cdp/ingest',
        '@cdp/loader',
        '@cdp/identity-service',
        '@cdp/tag-engine',
      ]),
    },
  },
  {
    files: ['services/tag-engine/src/**'],
    rules: {
      'no-restricted-imports': noService('tag-engine', [
        '@cdp/api',
        '@cdp/ingest',
        '@cdp/loader',
        '@cdp/identity-service',
      ]),
    },
  },
  {
    files: [
      'packages/analytics/src/**',
      'packages/attribution/src/**',
      'packages/identity/src/**',
      'packages/tags/src/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...adapterOnly,
            { name: 'fastify', message: 'Pure packages have no HTTP: routes live in a service.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/bus/src/kafka/**', 'packages/warehouse/src/**', 'packages/testkit/src/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
