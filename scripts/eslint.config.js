// ESLint for the whole project (run from the project root: `npm run lint`). Kept in scripts/ so the top level
// stays the project's own folders; `basePath` makes every pattern below relative to the project root.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const domainMayNotImport = [
  { name: 'express', message: 'src/domain knows nothing of HTTP: parse the request in a controller and pass plain values.' },
  { name: 'express-session', message: 'src/domain knows nothing of HTTP sessions.' },
];
const domainMayNotImportPatterns = [
  { group: ['**/controllers/**', '**/routes/**', '**/middleware/**'], message: 'src/domain may not import the web layer (controllers, routes, middleware).' },
];

// Controllers parse, call one domain function and render: the queries and transactions are the domain's. They get
// the database handle from depsOf(req) to pass on; they neither import Knex (not even its type) or src/db, nor call it.
const controllersMayNotImport = [
  { name: 'knex', message: 'src/controllers call the domain: a query belongs in src/domain/<noun>/.' },
];
const controllersMayNotImportPatterns = [
  { group: ['**/db/**'], message: 'src/controllers get the database handle from depsOf(req) and pass it to the domain.' },
];
const noOnly = { selector: "CallExpression[callee.property.name='only']", message: 'no .only in tests' };
const controllersMayNotQuery = [
  { selector: "CallExpression[callee.name=/^(knex|trx)$/]", message: 'src/controllers do not query: call a domain function.' },
  { selector: "CallExpression[callee.property.name=/^(knex|transaction)$/]", message: 'src/controllers do not query or open transactions: call a domain function.' },
];

export default tseslint.config(
  { basePath: '..' },
  { ignores: ['dist/**', 'data/**', 'node_modules/**', 'public/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', noOnly],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: domainMayNotImport, patterns: domainMayNotImportPatterns }] },
  },
  {
    files: ['src/controllers/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: controllersMayNotImport, patterns: controllersMayNotImportPatterns }],
      'no-restricted-syntax': ['error', noOnly, ...controllersMayNotQuery],
    },
  },
  {
    // The command line parses, calls the domain's operation and prints: it holds the handle, it does not query.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        noOnly,
        { selector: "CallExpression[callee.name=/^(knex|trx)$/]", message: 'src/cli does not query: call a domain operation.' },
      ],
    },
  },
);
