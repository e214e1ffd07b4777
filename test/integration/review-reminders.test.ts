/**
 * 首頁 reminders: requests waiting longer than 2 school days come first, in red, with their age in school days
 * (weekends and the school's holidays do not count). The school office sees the same per class.
 * Today is Tuesday 2026-11-24; Friday 2026-11-20 is a holiday of the school.
 */
import { describe, expect, it } from 'vitest';
import { signedIn, useTestApp } from '../support/app.js';
import { runAdminCommand } from '../support/admin-cli.js';
import { testDb } from '../support/db.js';
import { createStudent } from '../support/factories.js';
import { createOrder, createRequest, smsWorld } from '../support/subscriptions-factories.js';

const { app } = useTestApp();
const knex = () => testDb().knex;
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

/** The rows of the reminders table on 首頁, as text, with whether each is marked overdue (red). */
function reminderRows(html: string): { text: string; overdue: boolean }[] {
  const section = /<section class="panel home-review-reminders"[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(section)?.[1] ?? '';
  return [...body.matchAll(/<tr( class="overdue-row")?>([\s\S]*?)<\/tr>/g)].map((m) => ({
    text: text(m[2]!).trim(),
    overdue: m[1] !== undefined,
  }));
}

async function world() {
  const w = await smsWorld(knex());
  await knex()('schools').where({ id: w.schoolId }).update({ code: '313601' });
  expect(
    (await runAdminCommand(knex(), ['holiday:add', '--school', '313601', '--date', '2026-11-20', '--name', '校慶補假']))
      .code,
  ).toBe(0);
  const order = async (name: string, seat: number, requestedOn: string, classId = w.class401) => {
    const st = await createStudent(knex(), classId, {
      name,
      seat,
      studentNumber: `1130${classId}${String(seat).padStart(2, '0')}`,
    });
    return (await createOrder(knex(), st, w.periodId, { on: requestedOn })).requestId;
  };
  // Wednesday: Thu, (Fri holiday), Mon, Tue → 3 school days: overdue (4 if the holiday counted).
  await order('林小一', 11, '2026-11-18');
  // Thursday: (Fri holiday), (weekend), Mon, Tue → 2 school days: not overdue, though 5 calendar days old.
  await order('林小二', 12, '2026-11-19');
  // Monday: Tue → 1.
  await createRequest(knex(), w.subscriptionId, { kind: 'cancellation', requestedOn: '2026-11-23' });
  // 402: one request of today (0 school days).
  await createRequest(knex(), w.sub402, { kind: 'cancellation', requestedOn: '2026-11-24' });
  return w;
}

describe('首頁: reminders of requests waiting for review', () => {
  it('the teacher sees the requests oldest first, with their age in school days, those over 2 school days in red', async () => {
    const w = await world();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const home = await teacher.get('/');
    expect(home.status).toBe(200);
    expect(text(home.text)).toContain('待審核 3 件，其中 1 件已等候超過 2 個上課日');
    expect(reminderRows(home.text)).toEqual([
      { text: '訂購申請 四年一班 11 林小一 2026-11-18 3 個上課日（逾期）', overdue: true },
      { text: '訂購申請 四年一班 12 林小二 2026-11-19 2 個上課日', overdue: false },
      { text: '註銷申請 四年一班 1 王小明 2026-11-23 1 個上課日', overdue: false },
    ]);
    // Another class's teacher sees only their own class's request.
    const other = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    expect(reminderRows((await other.get('/')).text)).toEqual([
      { text: '註銷申請 四年二班 1 李小華 2026-11-24 0 個上課日', overdue: false },
    ]);
  });

  it('without the holiday the same requests are a school day older (the Thursday one overdue too); the week-end never counts', async () => {
    const w = await world();
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    // Remove the holiday: Friday counts again (the Wednesday request is 4 school days old, the Thursday one 3).
    await knex()('school_holidays').where({ school_id: w.schoolId }).del();
    const rows = reminderRows((await teacher.get('/')).text);
    expect(rows.map((r) => [r.text.split(' ')[3], r.text.match(/(\d+) 個上課日/)![1], r.overdue])).toEqual([
      ['林小一', '4', true],
      ['林小二', '3', true],
      ['王小明', '1', false],
    ]);
  });

  it('the school office sees the same per class, classes with overdue requests first, and a class with no teacher marked', async () => {
    const w = await world();
    expect((await runAdminCommand(knex(), ['staff:disable', '--school', '313601', '--login', 't402'])).code).toBe(0);
    const office = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const home = await office.get('/');
    expect(text(home.text)).toContain('待審核 4 件，其中 1 件已等候超過 2 個上課日');
    expect(reminderRows(home.text)).toEqual([
      { text: '四年一班 3 件 1 件 3 個上課日 已指派', overdue: true },
      { text: '四年二班 1 件 0 件 0 個上課日 此班級尚無導師', overdue: false },
    ]);
    expect(home.text).toContain(`href="/reviews?classId=${w.class401}"`);
  });

  it("a parent's 首頁 has no reminders; staff with nothing waiting read so", async () => {
    const w = await smsWorld(knex());
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    expect((await parent.get('/')).text).not.toContain('待審核提醒');
    const teacher = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    expect(text((await teacher.get('/')).text)).toContain('待審核提醒 目前沒有待審核的申請。');
  });
});
