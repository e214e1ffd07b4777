/**
 * Taipei Card (臺北卡) identities: an OpenID Connect identity keyed by (issuer, sub), linked to one or more
 * parent accounts. The first card sign-in is linked by signing in once with a student-number account; later
 * card sign-ins open every linked account's children.
 */
import type { Knex } from 'knex';
import type { Config } from '../../config.js';

/** The one identity the development identity provider knows (the README's demo accounts). */
export const DEV_IDP_SUBJECT = 'taipei-card-demo-0001';
export const DEV_IDP_NAME = '王大明';
export const DEV_IDP_LOGINS = ['0912345678', 'parent@example.com'] as const;
export const DEV_IDP_PASSWORD = 'demo-1234';
export const DEV_CLIENT_ID = 'student-card-portal';
/** Development only: the dev provider is never mounted in production. */
export const DEV_CLIENT_SECRET = 'dev-only-student-card-portal-client-secret';
export const DEV_IDP_PATH = '/dev-idp';

/** The development identity provider's issuer URL. */
export function devIssuer(config: Pick<Config, 'publicUrl'>): string {
  return `${config.publicUrl}${DEV_IDP_PATH}`;
}

/** Mount the development provider? Only when no real issuer is configured and not in production. */
export function usesDevIdp(config: Pick<Config, 'oidc' | 'isProduction'>): boolean {
  return !config.oidc.issuer && !config.isProduction;
}

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** http:// issuers are allowed outside production only (the dev provider on a laptop). */
  allowInsecure: boolean;
}

/** Where the portal sends parents for 臺北卡登入, or undefined when nothing is configured. */
export function oidcSettings(config: Config): OidcSettings | undefined {
  const redirectUri = `${config.publicUrl}/auth/taipei-card/callback`;
  if (config.oidc.issuer && config.oidc.clientId && config.oidc.clientSecret) {
    return {
      issuer: config.oidc.issuer,
      clientId: config.oidc.clientId,
      clientSecret: config.oidc.clientSecret,
      redirectUri,
      allowInsecure: !config.isProduction,
    };
  }
  if (usesDevIdp(config)) {
    return {
      issuer: devIssuer(config),
      clientId: DEV_CLIENT_ID,
      clientSecret: DEV_CLIENT_SECRET,
      redirectUri,
      allowInsecure: true,
    };
  }
  return undefined;
}

/** The identity row for (issuer, sub), created on first sight. */
export async function upsertIdentity(
  knex: Knex,
  c: { issuer: string; subject: string; displayName: string | undefined; now: Date },
): Promise<number> {
  const [row] = await knex('taipei_card_identities')
    .insert({ issuer: c.issuer, subject: c.subject, display_name: c.displayName ?? null, last_login_at: c.now })
    .onConflict(['issuer', 'subject'])
    .merge({ last_login_at: c.now, ...(c.displayName ? { display_name: c.displayName } : {}) })
    .returning('id');
  return row.id as number;
}

export async function linkIdentity(knex: Knex, identityId: number, accountId: number): Promise<void> {
  await knex('taipei_card_links')
    .insert({ identity_id: identityId, account_id: accountId })
    .onConflict(['identity_id', 'account_id'])
    .ignore();
}

/** The enabled parent accounts this card opens, oldest link first. */
export async function linkedAccountIds(knex: Knex, identityId: number): Promise<number[]> {
  const rows = await knex('taipei_card_links as l')
    .join('accounts as a', 'a.id', 'l.account_id')
    .where('l.identity_id', identityId)
    .where('a.role', 'parent')
    .whereNull('a.disabled_at')
    .orderBy([{ column: 'l.linked_at' }, { column: 'a.id' }])
    .select('a.id');
  return rows.map((r) => r.id as number);
}

/** The cards linked to an account (for 我的帳號). */
export async function identitiesOf(
  knex: Knex,
  accountId: number,
): Promise<{ id: number; displayName: string | null; linkedAt: Date; lastLoginAt: Date | null }[]> {
  const rows = await knex('taipei_card_links as l')
    .join('taipei_card_identities as i', 'i.id', 'l.identity_id')
    .where('l.account_id', accountId)
    .orderBy('l.linked_at')
    .select('i.id', 'i.display_name', 'l.linked_at', 'i.last_login_at');
  return rows.map((r) => ({
    id: r.id,
    displayName: r.display_name,
    linkedAt: r.linked_at,
    lastLoginAt: r.last_login_at,
  }));
}

export async function unlinkIdentity(knex: Knex, identityId: number, accountId: number): Promise<boolean> {
  const n = await knex('taipei_card_links').where({ identity_id: identityId, account_id: accountId }).del();
  return n > 0;
}

export async function identityName(knex: Knex, identityId: number): Promise<string | undefined> {
  const row = await knex('taipei_card_identities').where({ id: identityId }).first('display_name');
  return row ? ((row.display_name as string | null) ?? '') : undefined;
}
