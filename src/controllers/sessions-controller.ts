import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../deps.js';
import { captchaMatches, claimCaptcha, newCaptcha } from '../domain/accounts/captcha.js';
import { authenticate, normalizeLogin } from '../domain/accounts/sign-in.js';
import { accountKey, expireAccountLock, lockedUntil } from '../domain/accounts/lockout.js';
import { audit } from '../domain/audit.js';
import { actorOf } from '../middleware/actor.js';
import { findSchool, listSchools, loginDirectory } from '../domain/schools/school-directory.js';
import { safeNextPath } from '../middleware/auth.js';
import { csrfField, fieldErrors, id, text } from '../validation.js';
import { destroySession, establishSession } from './sign-in.js';
import { identityName, linkedAccountIds, linkIdentity } from '../domain/accounts/taipei-card.js';
import { setFlash } from '../middleware/locals.js';
import { isLevel, isRole, LEVELS, ROLE_LABELS, ROLES } from '../domain/vocabulary.js';
import { failureDelayMs, lockMessage, throttleOf } from '../middleware/throttle.js';

export const ROLE_CHOICES = ROLES.map((value) => ({ value, label: ROLE_LABELS[value] }));
const Role = z.enum(ROLES, { error: '請選擇身分別' });

/** What the login form may carry; the password is never trimmed or normalised. */
const LoginForm = z.strictObject({
  ...csrfField,
  intent: z.enum(['login', 'reload']).optional(),
  role: Role,
  districtId: z.union([z.literal(''), id]).optional(),
  level: z.union([z.literal(''), z.enum(LEVELS)]).optional(),
  schoolId: z.union([z.literal(''), id]).optional(),
  account: text(64),
  password: z.string({ error: '請輸入密碼' }).max(1000, '密碼過長'),
  captcha: text(12),
  next: z.string().max(2000).optional(),
});

const LoginQuery = z
  .object({
    role: z.string().optional(),
    districtId: z.string().optional(),
    level: z.string().optional(),
    schoolId: z.string().optional(),
    next: z.string().optional(),
  })
  .catch({});

interface LoginValues {
  role: string;
  districtId: number | undefined;
  level: string | undefined;
  schoolId: number | undefined;
  account: string;
  next: string;
}

async function renderLogin(
  req: Request,
  res: Response,
  values: LoginValues,
  status = 200,
  errors: Record<string, string> = {},
) {
  const { db, config } = depsOf(req);
  const { knex } = db;
  const { districts, levels, schools, districtId, level } = await loginDirectory(knex, values, config.referenceCacheMs);
  const pending = req.session?.pendingIdentityId;
  const pendingCard = pending !== undefined ? await identityName(knex, pending) : undefined;
  res.status(status).render('sessions/new', {
    pendingCard,
    title: '系統登入',
    roles: ROLE_CHOICES,
    districts,
    levels,
    schools,
    values: { ...values, districtId, level },
    errors,
    captchaNonce: Date.now().toString(36),
  });
}

/** GET /login */
export async function newSession(req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  if (req.user) return res.redirect(303, '/');
  const q = LoginQuery.parse(req.query);
  const num = (v: string | undefined) => (v && /^[1-9]\d{0,9}$/.test(v) ? Number(v) : undefined);
  const values: LoginValues = {
    role: isRole(q.role) ? q.role : 'parent',
    districtId: num(q.districtId),
    level: isLevel(q.level) ? q.level : undefined,
    schoolId: num(q.schoolId),
    account: '',
    next: safeNextPath(q.next),
  };
  await renderLogin(req, res, values);
}

/** GET /login/captcha — a new captcha image; its answer stays in the session. */
export function captchaImage(req: Request, res: Response): void {
  const { config, clock } = depsOf(req);
  const c = newCaptcha(config.captchaFixedText, clock.now().getTime());
  req.session.captcha = { text: c.text, expiresAt: c.expiresAt };
  res.set('Cache-Control', 'no-store').type('image/svg+xml').send(c.svg);
}

/** POST /login */
export async function createSession(req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  const deps = depsOf(req);
  const { knex } = deps.db;
  const parsed = LoginForm.safeParse(req.body);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const fallback: LoginValues = {
    role: isRole(body.role) ? body.role : 'parent',
    districtId: /^[1-9]\d{0,9}$/.test(str(body.districtId)) ? Number(body.districtId) : undefined,
    level: isLevel(str(body.level)) ? str(body.level) : undefined,
    schoolId: /^[1-9]\d{0,9}$/.test(str(body.schoolId)) ? Number(body.schoolId) : undefined,
    account: str(body.account).slice(0, 64),
    next: safeNextPath(body.next),
  };
  if (!parsed.success) {
    // The captcha is spent by any attempt, valid or not.
    delete req.session.captcha;
    return renderLogin(req, res, fallback, 422, fieldErrors(parsed.error));
  }
  const f = parsed.data;
  const values: LoginValues = {
    role: f.role,
    districtId: f.districtId || undefined,
    level: f.level || undefined,
    schoolId: f.schoolId || undefined,
    account: normalizeLogin(f.account),
    next: safeNextPath(f.next),
  };
  if (f.intent === 'reload') {
    // Without JavaScript, the 學校 list is refreshed by submitting the form: keep what was typed, not the password.
    return renderLogin(req, res, { ...values, schoolId: undefined }, 200);
  }

  // 1. The captcha: consumed by this check whatever its outcome; missing or expired is a failure.
  const stored = await claimCaptcha(knex, req.sessionID, req.session.captcha);
  delete req.session.captcha;
  if (!captchaMatches(stored, f.captcha, deps.clock.now().getTime())) {
    req.log.info({ event: 'login.captcha_failed' }, 'login refused: captcha');
    return renderLogin(req, res, values, 422, { captcha: '驗證碼錯誤' });
  }
  const required: Record<string, string> = {};
  if (!values.schoolId) required.schoolId = '請選擇學校';
  if (!values.account) required.account = '請輸入帳號';
  if (!f.password) required.password = '請輸入密碼';
  if (Object.keys(required).length > 0) return renderLogin(req, res, values, 422, required);

  // 2. The throttle (get before the password is compared): a locked account is refused even with the right password.
  const throttle = throttleOf(req);
  const keys = { account: accountKey(f.role, values.schoolId!, values.account), ip: req.ip ?? 'unknown' };
  const who = { role: f.role, schoolId: values.schoolId!, login: values.account };
  const now = deps.clock.now();
  const expired = await expireAccountLock(knex, who, now);
  if (expired !== undefined) {
    await audit(knex, actorOf(req), {
      action: 'login.unlocked',
      schoolId: values.schoolId,
      targetType: 'account',
      targetId: expired,
      details: { role: f.role, login: values.account, reason: 'expired' },
    });
  }
  // The lock of the account, from whatever address: its counter in the throttle, and the row's locked_until.
  let verdict = await throttle.check(keys);
  const until = verdict.locked ? undefined : await lockedUntil(knex, who, now);
  if (until)
    verdict = {
      locked: true,
      scope: 'account',
      minutes: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000)),
    };
  if (verdict.locked) {
    req.log.warn({ event: 'login.locked_refused', scope: verdict.scope }, 'login refused: locked');
    await audit(knex, actorOf(req), {
      action: 'login.locked_refused',
      schoolId: values.schoolId,
      details: { role: f.role, login: values.account, scope: verdict.scope },
    });
    return renderLogin(req, res, values, 429, { _form: lockMessage(verdict) });
  }

  // 3. The account, looked up by (role, school, login); 4. bcrypt (against a dummy hash when there is none).
  const school = await findSchool(knex, values.schoolId!);
  const account = await authenticate(knex, {
    role: f.role,
    schoolId: school ? school.id : 0,
    login: values.account,
    password: f.password,
  });
  if (!account) {
    const after = await throttle.fail(keys);
    // One statement whether or not the account exists (it then updates nothing), so timing does not tell.
    const [known] = (await knex('accounts')
      .where({ role: f.role, school_id: school ? school.id : 0, login: values.account })
      .update({
        failed_logins: knex.raw('failed_logins + 1'),
        ...(after.locked && after.scope === 'account'
          ? { locked_until: new Date(deps.clock.now().getTime() + after.minutes * 60_000) }
          : {}),
      })
      .returning('id')) as { id: number }[];
    req.log.info({ event: 'login.failed', role: f.role, schoolId: values.schoolId }, 'login failed');
    await audit(knex, actorOf(req), {
      action: 'login.failed',
      schoolId: school?.id,
      targetType: known ? 'account' : undefined,
      targetId: known?.id,
      details: { role: f.role, login: values.account },
    });
    if (after.locked) {
      req.log.warn({ event: 'login.locked', scope: after.scope }, 'login locked');
      await audit(knex, actorOf(req), {
        action: 'login.locked',
        schoolId: school?.id,
        targetType: known ? 'account' : undefined,
        targetId: known?.id,
        details: { role: f.role, login: values.account, scope: after.scope, minutes: after.minutes },
      });
      return renderLogin(req, res, values, 429, { _form: lockMessage(after) });
    }
    // Slow the client down, more with each consecutive failure (the lock comes at the fifth).
    await new Promise((resolve) => setTimeout(resolve, failureDelayMs(after.failures ?? 0)));
    return renderLogin(req, res, values, 422, { _form: '帳號或密碼錯誤' });
  }
  await throttle.succeed(keys);
  await knex('accounts')
    .where({ id: account.id })
    .update({ last_login_at: deps.clock.now(), failed_logins: 0, locked_until: null });

  // A Taipei Card seen for the first time is linked by this sign-in with a student-number account.
  const pendingIdentityId = req.session.pendingIdentityId;
  let card: { identityId: number; accountIds: number[] } | undefined;
  if (pendingIdentityId !== undefined && account.role === 'parent') {
    await linkIdentity(knex, pendingIdentityId, account.id);
    await audit(knex, actorOf(req), {
      action: 'taipei_card.linked',
      actorAccountId: account.id,
      schoolId: account.schoolId,
      targetType: 'taipei_card_identity',
      targetId: pendingIdentityId,
    });
    card = { identityId: pendingIdentityId, accountIds: await linkedAccountIds(knex, pendingIdentityId) };
  }
  await establishSession(req, {
    accountId: account.id,
    accountIds: card?.accountIds,
    identityId: card?.identityId,
    now: deps.clock.now().getTime(),
  });
  await audit(knex, actorOf(req), {
    action: 'login.succeeded',
    actorAccountId: account.id,
    schoolId: account.schoolId,
    details: { method: 'password', ...(card ? { linkedIdentityId: card.identityId } : {}) },
  });
  req.log.info({ event: 'login.succeeded', accountId: account.id }, 'signed in');
  if (card) setFlash(req, 'success', '已完成臺北卡連結，下次可直接使用臺北卡登入。');
  res.redirect(303, values.next);
}

/** POST /logout */
export async function destroy(req: Request, res: Response): Promise<void> {
  const accountId = req.session.accountId;
  if (accountId) await audit(depsOf(req).db.knex, actorOf(req), { action: 'logout', actorAccountId: accountId });
  await destroySession(req);
  res.clearCookie('sid', { path: '/' });
  res.set('Cache-Control', 'no-store').redirect(303, '/login');
}

/** GET /api/schools?districtId=&level= — the 學校 list for the login page's script. */
export async function schoolsJson(req: Request, res: Response): Promise<void> {
  const q = z.strictObject({ districtId: id, level: z.enum(LEVELS) }).safeParse(req.query);
  if (!q.success) {
    res.status(400).json({ error: { status: 400, message: '請提供行政區與級別' } });
    return;
  }
  const { db, config } = depsOf(req);
  const schools = await listSchools(db.knex, q.data.districtId, q.data.level, config.referenceCacheMs);
  res.set('Cache-Control', 'public, max-age=300').json({ schools: schools.map((s) => ({ id: s.id, name: s.name })) });
}
