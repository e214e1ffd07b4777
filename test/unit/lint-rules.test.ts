/** The layering rule holds: ESLint refuses Express and the web layer in src/domain, and allows them elsewhere. */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/paths.js';

const eslint = new ESLint({ cwd: PROJECT_ROOT, overrideConfigFile: 'scripts/eslint.config.js' });
const problemsOf = async (code: string, filePath: string) =>
  (await eslint.lintText(code, { filePath })).flatMap((r) => r.messages.map((m) => `${m.ruleId}: ${m.message}`));

describe('the domain knows nothing of HTTP (scripts/eslint.config.js)', () => {
  it.each([
    ["import type { Request } from 'express';\nexport type R = Request;\n", 'express'],
    ["import express from 'express';\nexport const app = express;\n", 'express'],
    ["import { index } from '../controllers/home-controller.js';\nexport const i = index;\n", 'controllers'],
    ["import { requireUser } from '../../middleware/auth.js';\nexport const r = requireUser;\n", 'middleware'],
  ])('refuses %j in src/domain', async (code, what) => {
    const problems = await problemsOf(code, 'src/domain/subscriptions/example.ts');
    expect(
      problems.some(
        (p) => p.startsWith('no-restricted-imports') && p.includes(what === 'express' ? 'express' : 'web layer'),
      ),
    ).toBe(true);
  });

  it('allows the same import in a controller', async () => {
    expect(
      await problemsOf(
        "import type { Request } from 'express';\nexport type R = Request;\n",
        'src/controllers/example.ts',
      ),
    ).toEqual([]);
  });
});

describe('controllers call the domain, they do not query (scripts/eslint.config.js)', () => {
  it.each([
    ["import knex from 'knex';\nexport const k = knex;\n", 'no-restricted-imports'],
    ["import { openDatabase } from '../db/connection.js';\nexport const o = openDatabase;\n", 'no-restricted-imports'],
    [
      "declare const db: { knex: (t: string) => unknown };\nexport const rows = () => db.knex('accounts');\n",
      'no-restricted-syntax',
    ],
    [
      "declare const knex: (t: string) => unknown;\nexport const rows = () => knex('accounts');\n",
      'no-restricted-syntax',
    ],
    [
      'declare const k: { transaction: (f: () => void) => void };\nexport const t = () => k.transaction(() => {});\n',
      'no-restricted-syntax',
    ],
  ])('refuses %j in src/controllers', async (code, rule) => {
    const problems = await problemsOf(code, 'src/controllers/example-controller.ts');
    expect(problems.some((p) => p.startsWith(rule) && p.includes('src/controllers'))).toBe(true);
  });

  it('refuses even the Knex type (a controller has no query to type), and allows the same code in src/domain', async () => {
    const typeOnly = "import type { Knex } from 'knex';\nexport type K = Knex;\n";
    expect((await problemsOf(typeOnly, 'src/controllers/example.ts')).length).toBeGreaterThan(0);
    expect(await problemsOf(typeOnly, 'src/domain/accounts/example.ts')).toEqual([]);
    expect(
      await problemsOf(
        "declare const knex: (t: string) => unknown;\nexport const rows = () => knex('accounts');\n",
        'src/domain/accounts/example.ts',
      ),
    ).toEqual([]);
  });
});

describe('the command line calls the domain, it does not query (scripts/eslint.config.js)', () => {
  it('refuses a query in src/cli, and allows opening the handle', async () => {
    const query = "declare const knex: (t: string) => unknown;\nexport const rows = () => knex('schools');\n";
    expect(
      (await problemsOf(query, 'src/cli/example.ts')).some(
        (p) => p.startsWith('no-restricted-syntax') && p.includes('src/cli'),
      ),
    ).toBe(true);
    const open = 'declare const ctx: { knex: () => Promise<unknown> };\nexport const k = () => ctx.knex();\n';
    expect(await problemsOf(open, 'src/cli/example.ts')).toEqual([]);
  });
});
