// Lint: typescript-eslint's syntactic rules (the type-aware ones cost more than they find here) plus the
// layer boundaries DEVELOPERS.md describes, enforced on resolved paths, and zero import cycles.
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'fixtures/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'no-sparse-arrays': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            // The pure core: only itself (and node:crypto, below).
            { target: './src/core', from: './', except: ['./src/core'], message: 'src/core is pure: it imports only src/core and node:crypto' },
            // The scanner runs inside the container: no use cases, commands, store or views.
            { target: './src/scanner', from: ['./src/app', './src/cli', './store', './components'], message: 'src/scanner must not import app, cli, store or components' },
            // Views get data through props and the workstation's ports, never a database or Docker.
            { target: './components', from: ['./store', './src/adapters'], message: 'components must not import store or src/adapters' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/core/**'],
    rules: { 'import-x/no-nodejs-modules': ['error', { allow: ['node:crypto'] }] },
  },
  {
    // Tests may use any helper; their own rules are vitest's.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
