import eslint from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// Where code runs decides what it may import (see docs/development-notes.md, "Layout"):
// - runtime code (lib/runtime, lib/<feature>/runtime, lib/release) runs in Lambda or the CLI and
//   never loads aws-cdk-lib or constructs; lib/release, the pure release logic, loads no AWS SDK;
// - lambda/ and lib/cli/ import only runtime code and lib/release from lib/;
// - constructs reference handler code by path, never by import; nothing imports bin/.
const RUNTIME_CODE = ['lib/runtime/**/*.ts', 'lib/*/runtime/**/*.ts', 'lib/release/**/*.ts', 'lib/cli/**/*.ts', 'lambda/**/*.ts'];
const RUNTIME_FOLDERS = ['**/lib/runtime/**', '**/lib/*/runtime/**', '**/lib/release/**'];
const SYNTH_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag'];
const CDK_IMPORTS = {
  paths: SYNTH_PACKAGES.map((name) => ({ name, message: `runtime code (Lambda, CLI) must not load ${name}` })),
  patterns: [{ group: [...SYNTH_PACKAGES.map((name) => `${name}/*`), '@aws-cdk/*'], message: 'runtime code (Lambda, CLI) must not load synth-time packages' }],
};
// import('aws-cdk-lib') and require('aws-cdk-lib') too, which no-restricted-imports does not see.
const SYNTH_PACKAGE_SOURCE = `/^(${SYNTH_PACKAGES.join('|')}|@aws-cdk)(\\/|$)/`;
const CDK_CALLS = [
  { selector: `ImportExpression[source.value=${SYNTH_PACKAGE_SOURCE}]`, message: 'runtime code (Lambda, CLI) must not load synth-time packages' },
  { selector: `CallExpression[callee.name='require'][arguments.0.value=${SYNTH_PACKAGE_SOURCE}]`, message: 'runtime code (Lambda, CLI) must not load synth-time packages' },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', 'coverage/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': 'error',
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
      'import-x/no-restricted-paths': ['error', {
        zones: [
          {
            target: ['lambda/**', 'lib/cli/**'],
            from: ['lib/**'],
            except: [...RUNTIME_FOLDERS, '**/lib/cli/**'],
            message: 'lambda/ and lib/cli/ import only runtime code (lib/runtime, lib/<feature>/runtime) and lib/release.',
          },
          {
            target: ['lib/runtime/**', 'lib/*/runtime/**', 'lib/release/**'],
            from: ['lib/**'],
            except: RUNTIME_FOLDERS,
            message: 'runtime code imports only runtime code and lib/release, never a construct or a synth-time helper.',
          },
          {
            target: ['lib/release/**'],
            from: ['lib/*/runtime/**'],
            message: 'lib/release is pure release logic: it imports no SDK adapter (they import it).',
          },
          { target: ['lib/**'], from: ['lambda/**'], message: 'constructs reference handler code by path, never by import.' },
          { target: ['lib/**', 'lambda/**', 'test/**', 'bench/**'], from: ['bin/**'], message: 'bin/ only composes; nothing imports from it.' },
        ],
      }],
    },
  },
  { files: RUNTIME_CODE, rules: { 'no-restricted-imports': ['error', CDK_IMPORTS], 'no-restricted-syntax': ['error', ...CDK_CALLS] } },
  {
    files: ['lib/release/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: CDK_IMPORTS.paths,
        patterns: [...CDK_IMPORTS.patterns, { group: ['@aws-sdk/*'], message: 'lib/release is pure release logic: no AWS SDK (SDK adapters live in lib/hooks/runtime)' }],
      }],
    },
  },
  {
    files: ['lib/cli/**/*.ts', 'bin/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
