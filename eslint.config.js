// ESLint: type-aware rules from typescript-eslint, plus the boundaries of
// STYLE.md: only adapter modules may import kafkajs, @clickhouse/client or chdb.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.cache/**', '.cdp-data/**', 'bench/**', '**/*.mjs', '**/*.config.ts', 'eslint.config.js'] },
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
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kafkajs', message: 'Only the Kafka bus adapter (packages/bus/src/kafka) talks to kafkajs.' },
            { name: '@clickhouse/client', message: 'Only the warehouse adapter talks to @clickhouse/client.' },
            { name: 'chdb', message: 'Only the warehouse adapter talks to chDB.' },
            { name: 'chdb/connection', message: 'Only the warehouse adapter talks to chDB.' },
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
    rules: { '@typescript-eslint/no-unsafe-member-access': 'off', '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-argument': 'off' },
  },
);
