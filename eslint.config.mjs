import tseslint from 'typescript-eslint'
import gatehouse from './eslint-rules/gatehouse-boundaries.mjs'

const NO_FOCUSED_TESTS = { selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]", message: 'No focused tests' }
// Each generator function object has a prototype, and so its generators a V8 map, of their own (message-body.ts).
const NO_GENERATOR_PER_CALL = [
  { selector: ':function :function[generator=true]', message: 'A generator function made per call: make it a module-level function (its generators share one V8 map)' },
  { selector: 'ObjectExpression > Property > FunctionExpression[generator=true]', message: 'A generator method in an object literal is a new generator function per object: call a module-level generator instead' },
]

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'coverage/**', 'tmp/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.js'],
    plugins: { gatehouse },
    rules: {
      'gatehouse/boundaries': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', NO_FOCUSED_TESTS],
    },
  },
  {
    files: ['src-main/**/*.ts', 'src-shared/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', NO_FOCUSED_TESTS, ...NO_GENERATOR_PER_CALL] },
  },
  {
    files: ['bin/**/*.js', 'scripts/**/*.js', 'scripts/**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
)
