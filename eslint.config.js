import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import { layersPlugin } from './eslint.layers.js'

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'coverage/**',
      '.vigil/**',
      '**/.vigil-cache/**',
      'test/fixtures/selection/*/.work/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Imports only go down the layers (eslint.layers.js): a back-import fails `npm run lint`.
    files: ['engine/**/*.ts', 'plans/**/*.ts', 'selectors/**/*.ts', 'reporters/**/*.ts'],
    plugins: { vigil: layersPlugin },
    rules: { 'vigil/layers': 'error' },
  },
  {
    // CommonJS files a labelled set's sandbox hands to the project under test (it require()s them).
    files: ['test/fixtures/selection/**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'readonly', require: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The start-up benchmark's probe, preloaded with `node -r` (CommonJS: cheaper than an ESM --import).
    files: ['test/bench/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['samples/**/*.js', 'bin/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
      },
    },
  },
)
