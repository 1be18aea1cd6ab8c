// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', 'data/', 'spool/', 'coverage/', 'dashboards/generated/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    // Entry points, benchmarks and tests talk to the terminal directly.
    files: ['scripts/**', 'bench/**', 'test/**', 'testing/**', 'dashboards/**', 'src/log.ts'],
    rules: { 'no-console': 'off' },
  },
);
