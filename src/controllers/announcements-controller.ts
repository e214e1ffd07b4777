import type { Request, Response } from 'express';
import { z } from 'zod';
import { depsOf, userOf } from '../deps.js';
import {
  AnnouncementError,
  createSchoolAnnouncement,
  findOwnAnnouncement,
  findVisibleAnnouncement,
  listAnnouncements,
  listSchoolAnnouncements,
  updateSchoolAnnouncement,
  withdrawSchoolAnnouncement,
  type AnnouncementInput,
} from '../domain/announcements/announcements.js';
import { bodyLines } from '../domain/announcements/rich-text.js';
import { actorOf } from '../middleware/actor.js';
import { NotFoundError } from '../http-errors.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField, fieldErrors, paramId, text } from '../validation.js';
import { listQuery, pageLinks, parseListQuery, readList } from './list-kit.js';

const ListQuery = listQuery({});
const AnnouncementForm = z.strictObject({
  ...csrfField,
  title: text(100, { min: 1, prose: true }),
  body: text(5000, { min: 1, multiline: true }),
  pinned: z.literal('1').optional(),
});

/** GET /announcements — 公告資訊服務 */
export async function index(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const answer = await readList(parseListQuery(ListQuery, req), (q) =>
    listAnnouncements(db.knex, user, clock.now(), q.page),
  );
  res.status(answer.status).render('announcements/index', {
    title: '公告資訊服務',
    list: answer.list,
    queryError: answer.queryError,
    pageLink: pageLinks('/announcements'),
    canManage: user.role === 'school_admin',
  });
}

/** GET /announcements/:id */
export async function show(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const a = await findVisibleAnnouncement(db.knex, userOf(req), clock.now(), paramId(req));
  if (!a) throw new NotFoundError();
  res.render('announcements/show', { title: a.title, a, lines: bodyLines(a.body) });
}

/** GET /announcements/manage — the school's own announcements, withdrawn ones included (school admin). */
export async function manage(req: Request, res: Response): Promise<void> {
  const rows = await listSchoolAnnouncements(depsOf(req).db.knex, userOf(req));
  res.render('announcements/manage', { title: '管理學校公告', rows });
}

function renderForm(
  res: Response,
  o: { mode: 'new' | 'edit'; id?: number; values: AnnouncementInput; errors?: Record<string, string>; status?: number },
) {
  res.status(o.status ?? 200).render('announcements/form', {
    title: o.mode === 'new' ? '新增公告' : '編輯公告',
    mode: o.mode,
    announcementId: o.id,
    values: o.values,
    errors: o.errors ?? {},
  });
}

function fallbackValues(body: unknown): AnnouncementInput {
  const b = (body ?? {}) as Record<string, unknown>;
  const s = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  return { title: s(b.title, 400), body: s(b.body, 20000), pinned: b.pinned === '1' };
}

/** GET /announcements/new */
export function newForm(_req: Request, res: Response): void {
  renderForm(res, { mode: 'new', values: { title: '', body: '', pinned: false } });
}

/** POST /announcements */
export async function create(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const parsed = AnnouncementForm.safeParse(req.body);
  if (!parsed.success)
    return renderForm(res, {
      mode: 'new',
      values: fallbackValues(req.body),
      errors: fieldErrors(parsed.error),
      status: 422,
    });
  const input = { title: parsed.data.title, body: parsed.data.body, pinned: parsed.data.pinned === '1' };
  let newId: number;
  try {
    newId = await createSchoolAnnouncement(db.knex, actorOf(req), user, input, clock.now());
  } catch (err) {
    if (err instanceof AnnouncementError)
      return renderForm(res, { mode: 'new', values: fallbackValues(req.body), errors: err.errors, status: 422 });
    throw err;
  }
  setFlash(req, 'success', '公告已發布。');
  res.redirect(303, `/announcements/${newId}`);
}

/** GET /announcements/:id/edit */
export async function editForm(req: Request, res: Response): Promise<void> {
  const a = await findOwnAnnouncement(depsOf(req).db.knex, userOf(req), paramId(req));
  if (!a || a.withdrawnAt) throw new NotFoundError();
  renderForm(res, { mode: 'edit', id: a.id, values: { title: a.title, body: a.body, pinned: a.pinned } });
}

/** POST /announcements/:id/edit */
export async function update(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const annId = paramId(req);
  const existing = await findOwnAnnouncement(db.knex, user, annId);
  if (!existing || existing.withdrawnAt) throw new NotFoundError();
  const parsed = AnnouncementForm.safeParse(req.body);
  if (!parsed.success)
    return renderForm(res, {
      mode: 'edit',
      id: annId,
      values: fallbackValues(req.body),
      errors: fieldErrors(parsed.error),
      status: 422,
    });
  const input = { title: parsed.data.title, body: parsed.data.body, pinned: parsed.data.pinned === '1' };
  let ok: boolean;
  try {
    ok = await updateSchoolAnnouncement(db.knex, actorOf(req), user, annId, input, clock.now());
  } catch (err) {
    if (err instanceof AnnouncementError)
      return renderForm(res, {
        mode: 'edit',
        id: annId,
        values: fallbackValues(req.body),
        errors: err.errors,
        status: 422,
      });
    throw err;
  }
  if (!ok) throw new NotFoundError();
  setFlash(req, 'success', '公告已更新。');
  res.redirect(303, `/announcements/${annId}`);
}

/** POST /announcements/:id/withdraw */
export async function withdraw(req: Request, res: Response): Promise<void> {
  const { db, clock } = depsOf(req);
  const user = userOf(req);
  const annId = paramId(req);
  const parsed = z.strictObject({ ...csrfField }).safeParse(req.body);
  if (!parsed.success) throw new NotFoundError();
  const ok = await withdrawSchoolAnnouncement(db.knex, actorOf(req), user, annId, clock.now());
  if (!ok) throw new NotFoundError();
  setFlash(req, 'success', '公告已撤回。');
  res.redirect(303, '/announcements/manage');
}
