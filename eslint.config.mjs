// Type-aware lint: floating promises are bugs in a service that moves money.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false, arguments: false } }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    // A lib is used through its index (@trektribe/<lib>): what index.ts exports is its API, the rest
    // is its own business. Tests may reach inside.
    files: ['libs/**/*.ts', 'apps/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@trektribe/*/*'], message: "Import another lib through its index ('@trektribe/<lib>'); its internals are not its API." },
            { group: ['**/libs/*/src/**', '../../*/src/**'], message: "Import another lib through its index ('@trektribe/<lib>'), not by path." },
          ],
        },
      ],
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'], rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' } },
);
