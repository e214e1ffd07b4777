import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf } from '../deps.js';
import { newCaptcha } from '../domain/accounts/captcha.js';
import {
  loginPage,
  normalizeLogin,
  signedOut,
  signIn,
  SignInRefused,
  type SignedIn,
} from '../domain/accounts/sign-in.js';
import { actorOf } from '../middleware/actor.js';
import { listSchools } from '../domain/schools/school-directory.js';
import { safeNextPath } from '../middleware/auth.js';
import { csrfField, fieldErrors, id, text } from '../validation.js';
import { destroySession, establishSession, storeFormSession } from './sign-in.js';
import { setFlash } from '../middleware/locals.js';
import { isLevel, isRole, LEVELS, ROLE_LABELS, ROLES } from '../domain/vocabulary.js';
import { throttleOf } from '../middleware/throttle.js';
import { statusOf } from '../http-errors.js';

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
  const { districts, levels, schools, districtId, level, pendingCard } = await loginPage(
    db.knex,
    values,
    req.session?.pendingIdentityId,
    config.referenceCacheMs,
  );
  await storeFormSession(req);
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

  const captcha = { answer: f.captcha, sessionId: req.sessionID, stored: req.session.captcha };
  // The captcha is spent by this attempt whatever its outcome.
  delete req.session.captcha;
  let signedIn: SignedIn;
  try {
    signedIn = await signIn(
      knex,
      throttleOf(req),
      actorOf(req),
      {
        role: f.role,
        schoolId: values.schoolId,
        login: values.account,
        password: f.password,
        captcha,
        ip: req.ip ?? 'unknown',
        pendingIdentityId: req.session.pendingIdentityId,
      },
      deps.clock.now(),
      req.log,
    );
  } catch (err) {
    if (!(err instanceof SignInRefused)) throw err;
    return renderLogin(req, res, values, statusOf(err), err.errors);
  }
  await establishSession(req, { ...signedIn, now: deps.clock.now().getTime() });
  if (signedIn.linkedCard) setFlash(req, 'success', '已完成臺北卡連結，下次可直接使用臺北卡登入。');
  res.redirect(303, values.next);
}

/** POST /logout */
export async function destroy(req: Request, res: Response): Promise<void> {
  const accountId = req.session.accountId;
  if (accountId) await signedOut(depsOf(req).db.knex, actorOf(req), accountId);
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
