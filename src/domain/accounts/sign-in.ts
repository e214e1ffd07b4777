import type { Knex } from 'knex';
import type { Logger } from '../../logger.js';
import { audit, type Actor } from '../audit.js';
import { DomainError } from '../errors.js';
import { findSchool, loginDirectory } from '../schools/school-directory.js';
import { captchaMatches, claimCaptcha } from './captcha.js';
import type { Role } from './current-user.js';
import {
  accountKey,
  expireAccountLock,
  failureDelayMs,
  lockedUntil,
  lockMessage,
  type LoginThrottle,
} from './lockout.js';
import { verifyPassword } from './passwords.js';
import { stripControlChars } from '../text.js';
import { identityName, linkedAccountIds, linkIdentity, upsertIdentity } from './taipei-card.js';

export interface Credentials {
  role: Role;
  schoolId: number;
  login: string;
  password: string;
}

/**
 * The account for these credentials, or undefined. The account is looked up by (role, school, login) only:
 * role and school are lookup keys, never privileges. An unknown account still costs one bcrypt compare.
 */
export async function authenticate(
  knex: Knex,
  c: Credentials,
): Promise<{ id: number; role: Role; schoolId: number } | undefined> {
  const account = await knex('accounts')
    .where({ role: c.role, school_id: c.schoolId, login: c.login })
    .whereNull('disabled_at')
    .first('id', 'role', 'school_id', 'password_hash');
  const ok = await verifyPassword(c.password, account?.password_hash);
  return ok && account ? { id: account.id, role: account.role, schoolId: account.school_id } : undefined;
}

/** One rule for what people type as 帳號: Unicode NFKC (full-width → half-width), trimmed. */
export function normalizeLogin(value: string): string {
  return value.normalize('NFKC').trim();
}

/** A sign-in refused: the field the message belongs to (`_form`: the whole form) and the zh-TW words. */
export class SignInRefused extends DomainError {
  constructor(
    kind: 'invalid' | 'rate_limited',
    readonly errors: Record<string, string>,
  ) {
    super(kind, Object.values(errors)[0] ?? '');
    this.name = 'SignInRefused';
  }
}

export interface SignInAttempt {
  role: Role;
  schoolId: number | undefined;
  /** As typed; normalised here (normalizeLogin). */
  login: string;
  password: string;
  captcha: { answer: string; sessionId: string; stored: { text: string; expiresAt: number } | undefined };
  ip: string;
  /** A Taipei Card seen for the first time, waiting for this sign-in to link it (parents only). */
  pendingIdentityId: number | undefined;
}

/** Who signed in, and with which accounts the session opens (a linked Taipei Card opens all its accounts). */
export interface SignedIn {
  accountId: number;
  schoolId: number;
  accountIds?: number[];
  identityId?: number;
  /** This sign-in linked the pending Taipei Card. */
  linkedCard: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sign in with a student number or staff account — the whole decision, in this order:
 * 1. the captcha, consumed atomically by this attempt whatever its outcome (missing or expired: refused);
 * 2. the lock, by account (from any address; the throttle's count and the row's `locked_until`) and by address,
 *    checked before the password is compared: a locked account is refused even with the right password;
 *    a recorded lock that has run out is cleared and audited `login.unlocked` here;
 * 3. the account by (role, school, login) and bcrypt (a dummy hash when there is none; a one-time password's
 *    cheaper hash padded to a full check: passwords.ts), so timing tells nothing about an account;
 * 4. a failure counts, may lock (audited), and is answered later with each consecutive failure
 *    (failureDelayMs); a success resets the count and, for a parent with a pending Taipei Card, links it.
 * The forced password change is the session's (middleware: `must_change_password` sends every page to 變更密碼).
 * Refusals are SignInRefused; the caller starts the session with what it returns.
 */
export async function signIn(
  knex: Knex,
  throttle: LoginThrottle,
  actor: Actor,
  a: SignInAttempt,
  now: Date,
  log?: Logger,
): Promise<SignedIn> {
  const login = normalizeLogin(a.login);
  // 1. The captcha.
  const stored = await claimCaptcha(knex, a.captcha.sessionId, a.captcha.stored);
  if (!captchaMatches(stored, a.captcha.answer, now.getTime())) {
    log?.info({ event: 'login.captcha_failed' }, 'login refused: captcha');
    throw new SignInRefused('invalid', { captcha: '驗證碼錯誤' });
  }
  const required: Record<string, string> = {};
  if (!a.schoolId) required.schoolId = '請選擇學校';
  if (!login) required.account = '請輸入帳號';
  if (!a.password) required.password = '請輸入密碼';
  if (Object.keys(required).length > 0) throw new SignInRefused('invalid', required);
  const schoolId = a.schoolId!;

  // 2. The lock.
  const keys = { account: accountKey(a.role, schoolId, login), ip: a.ip };
  const who = { role: a.role, schoolId, login };
  const details = { role: a.role, login };
  await knex.transaction(async (trx) => {
    const expired = await expireAccountLock(trx, who, now);
    if (expired !== undefined)
      await audit(trx, actor, {
        action: 'login.unlocked',
        schoolId,
        targetType: 'account',
        targetId: expired,
        details: { ...details, reason: 'expired' },
      });
  });
  let verdict = await throttle.check(keys);
  const until = verdict.locked ? undefined : await lockedUntil(knex, who, now);
  if (until)
    verdict = {
      locked: true,
      scope: 'account',
      minutes: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000)),
    };
  if (verdict.locked) {
    log?.warn({ event: 'login.locked_refused', scope: verdict.scope }, 'login refused: locked');
    await audit(knex, actor, {
      action: 'login.locked_refused',
      schoolId,
      details: { ...details, scope: verdict.scope },
    });
    throw new SignInRefused('rate_limited', { _form: lockMessage(verdict) });
  }

  // 3. The account and its password.
  const school = await findSchool(knex, schoolId);
  const lookupSchool = school ? school.id : 0;
  const account = await authenticate(knex, { role: a.role, schoolId: lookupSchool, login, password: a.password });

  // 4a. A failure.
  if (!account) {
    const after = await throttle.fail(keys);
    const lock = after.locked ? after : undefined;
    await knex.transaction(async (trx) => {
      // One statement whether or not the account exists (it then updates nothing), so timing does not tell.
      const [known] = (await trx('accounts')
        .where({ role: a.role, school_id: lookupSchool, login })
        .update({
          failed_logins: trx.raw('failed_logins + 1'),
          ...(lock?.scope === 'account' ? { locked_until: new Date(now.getTime() + lock.minutes * 60_000) } : {}),
        })
        .returning('id')) as { id: number }[];
      const target = known ? { targetType: 'account', targetId: known.id } : {};
      log?.info({ event: 'login.failed', role: a.role, schoolId }, 'login failed');
      await audit(trx, actor, { action: 'login.failed', schoolId: school?.id, ...target, details });
      if (lock) {
        log?.warn({ event: 'login.locked', scope: lock.scope }, 'login locked');
        await audit(trx, actor, {
          action: 'login.locked',
          schoolId: school?.id,
          ...target,
          details: { ...details, scope: lock.scope, minutes: lock.minutes },
        });
      }
    });
    if (lock) throw new SignInRefused('rate_limited', { _form: lockMessage(lock) });
    // Slow the client down, more with each consecutive failure (the lock comes at the fifth).
    await sleep(failureDelayMs(after.locked ? 0 : (after.failures ?? 0)));
    throw new SignInRefused('invalid', { _form: '帳號或密碼錯誤' });
  }

  // 4b. A success.
  await throttle.succeed(keys);
  return knex.transaction(async (trx) => {
    await trx('accounts')
      .where({ id: account.id })
      .update({ last_login_at: now, failed_logins: 0, locked_until: null });
    // A Taipei Card seen for the first time is linked by this sign-in with a student-number account.
    let card: { identityId: number; accountIds: number[] } | undefined;
    if (a.pendingIdentityId !== undefined && account.role === 'parent') {
      await linkIdentity(trx, a.pendingIdentityId, account.id);
      await audit(trx, actor, {
        action: 'taipei_card.linked',
        actorAccountId: account.id,
        schoolId: account.schoolId,
        targetType: 'taipei_card_identity',
        targetId: a.pendingIdentityId,
      });
      card = { identityId: a.pendingIdentityId, accountIds: await linkedAccountIds(trx, a.pendingIdentityId) };
    }
    await audit(trx, actor, {
      action: 'login.succeeded',
      actorAccountId: account.id,
      schoolId: account.schoolId,
      details: { method: 'password', ...(card ? { linkedIdentityId: card.identityId } : {}) },
    });
    log?.info({ event: 'login.succeeded', accountId: account.id }, 'signed in');
    return { accountId: account.id, schoolId: account.schoolId, ...card, linkedCard: card !== undefined };
  });
}

/** What a Taipei Card sign-in came to. */
export type CardSignIn =
  | { kind: 'linked'; identityId: number }
  | { kind: 'first_seen'; identityId: number }
  | ({ kind: 'signed_in' } & Required<Omit<SignedIn, 'linkedCard'>>);

/**
 * Sign in with a Taipei Card whose identity the provider has vouched for (issuer, subject; the name as given).
 * A signed-in parent (`linkTo`) links the card to their account. Otherwise the card opens every enabled parent
 * account linked to it (the first one is the session's account); a card seen for the first time opens nothing
 * yet: the parent signs in once with a student-number account (signIn, `pendingIdentityId`), which links it.
 */
export async function signInWithCard(
  knex: Knex,
  actor: Actor,
  c: { issuer: string; subject: string; name: string | undefined; linkTo: number | undefined },
  now: Date,
  log?: Logger,
): Promise<CardSignIn> {
  const displayName = (c.name && stripControlChars(c.name.normalize('NFKC')).slice(0, 100)) || undefined;
  return knex.transaction(async (trx) => {
    const identityId = await upsertIdentity(trx, { issuer: c.issuer, subject: c.subject, displayName, now });
    const identity = { targetType: 'taipei_card_identity', targetId: identityId };
    if (c.linkTo !== undefined) {
      await linkIdentity(trx, identityId, c.linkTo);
      await audit(trx, actor, { action: 'taipei_card.linked', ...identity });
      return { kind: 'linked', identityId } as const;
    }
    const accountIds = await linkedAccountIds(trx, identityId);
    const first = accountIds[0];
    if (first === undefined) {
      await audit(trx, actor, { action: 'taipei_card.first_seen', ...identity });
      return { kind: 'first_seen', identityId } as const;
    }
    const account = await trx('accounts').where({ id: first }).first('school_id');
    await trx('accounts').whereIn('id', accountIds).update({ last_login_at: now });
    await audit(trx, actor, {
      action: 'login.succeeded',
      actorAccountId: first,
      schoolId: account?.school_id,
      ...identity,
      details: { method: 'taipei_card', accountIds },
    });
    log?.info({ event: 'login.succeeded', method: 'taipei_card', accountId: first }, 'signed in with Taipei Card');
    return {
      kind: 'signed_in',
      accountId: first,
      schoolId: account?.school_id as number,
      accountIds,
      identityId,
    } as const;
  });
}

/** A Taipei Card sign-in that did not come back valid (no pending sign-in, expired, or refused by the provider). */
export async function cardSignInFailed(
  knex: Knex,
  actor: Actor,
  reason: 'expired' | 'no_state' | 'callback_invalid',
): Promise<void> {
  await audit(knex, actor, { action: 'login.failed', details: { method: 'taipei_card', reason } });
}

/** What the login page shows: the school directory as chosen, and the name of a Taipei Card waiting to be linked. */
export async function loginPage(
  knex: Knex,
  chosen: { districtId?: number | undefined; level?: string | undefined },
  pendingIdentityId: number | undefined,
  referenceCacheMs = 0,
) {
  const directory = await loginDirectory(knex, chosen, referenceCacheMs);
  const pendingCard = pendingIdentityId !== undefined ? await identityName(knex, pendingIdentityId) : undefined;
  return { ...directory, pendingCard };
}

/** Signing out: audited as `logout` (the session row itself is removed by the session store). */
export async function signedOut(knex: Knex, actor: Actor, accountId: number): Promise<void> {
  await audit(knex, actor, { action: 'logout', actorAccountId: accountId });
}
