import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { PROJECT_ROOT } from '../../src/paths.js';

const PROD = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://portal:secret@db.internal:5432/portal',
  SESSION_SECRET: 'x'.repeat(40),
  PUBLIC_URL: 'https://portal.example.gov.tw',
  OIDC_ISSUER: 'https://idp.example.gov.tw',
  OIDC_CLIENT_ID: 'portal',
  OIDC_CLIENT_SECRET: 'client-secret',
};

/** The ConfigError of loading `env`, or fail. */
function refusal(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the settings were accepted');
}

describe('settings (src/config.ts)', () => {
  it('starts with no settings at all: port 3000, embedded database in ./data, demo data outside production', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      dataDir: './data',
      env: 'development',
      seedDemo: true,
    });
    expect(c.publicUrl).toBe('http://localhost:3000');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('gives the database client deadlines: defaults, the query deadline after the statement timeout, and refusals', () => {
    expect(loadConfig({})).toMatchObject({
      dbConnectTimeoutMs: 5000,
      dbAcquireTimeoutMs: 5000,
      dbQueryTimeoutMs: 16_000,
      dbReadyTimeoutMs: 1000,
    });
    expect(loadConfig({ DB_STATEMENT_TIMEOUT_MS: '2000' }).dbQueryTimeoutMs).toBe(3000);
    expect(loadConfig({ DB_STATEMENT_TIMEOUT_MS: '1000', DB_QUERY_TIMEOUT_MS: '1500' }).dbQueryTimeoutMs).toBe(1500);
    expect(refusal({ DB_STATEMENT_TIMEOUT_MS: '2000', DB_QUERY_TIMEOUT_MS: '2000' }).message).toContain(
      'DB_QUERY_TIMEOUT_MS: must be longer than DB_STATEMENT_TIMEOUT_MS',
    );
    expect(refusal({ DB_CONNECT_TIMEOUT_MS: '5s' }).message).toContain('DB_CONNECT_TIMEOUT_MS: must be a whole number');
  });

  it('accepts a complete production environment', () => {
    const c = loadConfig(PROD);
    expect(c.isProduction).toBe(true);
    expect(c.seedDemo).toBe(false);
  });

  it.each(['abc', '0', '70000', '30.5', '-1'])('refuses PORT=%s, naming PORT', (port) => {
    const err = refusal({ PORT: port });
    expect(err.message).toMatch(/PORT/);
    expect(err.problems.every((p) => p.startsWith('PORT'))).toBe(true);
  });

  it('refuses a production start without SESSION_SECRET, naming it', () => {
    const err = refusal({ ...PROD, SESSION_SECRET: undefined });
    expect(err.problems).toEqual(['SESSION_SECRET: is required in production']);
  });

  it('refuses a production start without DATABASE_URL (no embedded database in production)', () => {
    expect(refusal({ ...PROD, DATABASE_URL: '' }).problems).toEqual(['DATABASE_URL: is required in production']);
  });

  it('refuses CAPTCHA_FIXED_TEXT in production', () => {
    expect(refusal({ ...PROD, CAPTCHA_FIXED_TEXT: 'ABCD' }).problems).toEqual([
      'CAPTCHA_FIXED_TEXT: is refused in production',
    ]);
  });

  it('refuses APP_NOW in production', () => {
    expect(refusal({ ...PROD, APP_NOW: '2026-11-24T01:00:00Z' }).problems).toEqual([
      'APP_NOW: is refused in production',
    ]);
  });

  it('accepts CAPTCHA_FIXED_TEXT and APP_NOW outside production', () => {
    const c = loadConfig({ CAPTCHA_FIXED_TEXT: 'ABCD', APP_NOW: '2026-11-24T09:00:00+08:00' });
    expect(c.captchaFixedText).toBe('ABCD');
    expect(c.appNow).toBe('2026-11-24T09:00:00+08:00');
  });

  it('refuses a short SESSION_SECRET, a non-postgres DATABASE_URL and a bad APP_NOW, naming each', () => {
    const err = refusal({ SESSION_SECRET: 'short', DATABASE_URL: 'mysql://x/y', APP_NOW: 'tomorrow' });
    expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual(['APP_NOW', 'DATABASE_URL', 'SESSION_SECRET']);
  });

  it('requires the Mitake settings when SMS_PROVIDER=mitake', () => {
    const err = refusal({ SMS_PROVIDER: 'mitake' });
    expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'MITAKE_PASSWORD',
      'MITAKE_URL',
      'MITAKE_USERNAME',
    ]);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it('are all listed, each with a comment, in .env.example', () => {
    const source = readFileSync(path.join(PROJECT_ROOT, 'src/config.ts'), 'utf8');
    const settings = [...source.matchAll(/^ {4}([A-Z][A-Z0-9_]+): /gm)].map((m) => m[1]);
    expect(settings.length).toBeGreaterThan(20);
    const example = readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8').split('\n');
    for (const name of settings) {
      const at = example.findIndex((l) => l.startsWith(`#${name}=`) || l.startsWith(`${name}=`));
      expect(at, name).toBeGreaterThan(0);
      // the line above is its comment, or another setting of the same group under one comment
      let i = at - 1;
      while (i > 0 && /^#?[A-Z][A-Z0-9_]+=/.test(example[i]!)) i--;
      expect(example[i], name).toMatch(/^# \S/);
    }
  });
});
