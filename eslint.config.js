import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'guest/out/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] },
          ],
        },
      ],
      // `() => void sideEffect()` callbacks are idiomatic in event handlers.
      '@typescript-eslint/no-confusing-void-expression': 'off',
    },
  },
  {
    files: ['src/common/**', 'src/rpc/schema/**', 'src/rpc/methods.ts'],
    ignores: ['src/common/node/**', '**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['node:*'] }] },
  },
  {
    files: ['src/domain/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/qemu/**', '**/qmp/**', '**/daemon/**', '**/cli/**', '**/rpc/**'] },
      ],
    },
  },
  {
    files: ['src/qmp/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/qemu/**', '**/domain/**', '**/daemon/**', '**/cli/**', '**/rpc/**'] },
      ],
    },
  },
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['**/qemu/**', '**/qmp/**', '**/daemon/**', '**/domain/**'] },
      ],
    },
  },
  prettier,
);
