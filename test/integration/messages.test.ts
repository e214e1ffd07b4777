import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { locationOf, postForm, signedIn, useTestApp } from '../support/app.js';
import { createSchoolWorld, createStudent } from '../support/factories.js';
import { createPhone } from '../support/sms-factories.js';
import { MESSAGES_PER_HOUR, sendMessage, smsLength } from '../../src/domain/messages/messages.js';
import { loadCurrentUser } from '../../src/domain/accounts/current-user.js';
import { userActor } from '../../src/domain/audit.js';
import { SmsDispatcher } from '../../src/domain/sms/dispatcher.js';
import type { OutgoingSms, SendResult, SmsProvider } from '../../src/domain/sms/providers/provider.js';

const { app, clock } = useTestApp();
const knex = () => testDb().knex;

/** 401: 王小明 (2 verified + 1 unverified), 陳小美 (1 verified), 林小強 (none); 402: 張小華 (1 verified). */
async function world() {
  const w = await createSchoolWorld(knex());
  const mei = await createStudent(knex(), w.class401, { name: '陳小美', studentNumber: '11301002', seat: 2 });
  const qiang = await createStudent(knex(), w.class401, { name: '林小強', studentNumber: '11301003', seat: 3 });
  const hua = await createStudent(knex(), w.class402, { name: '張小華', studentNumber: '11302001', seat: 1 });
  await createPhone(knex(), w.student, { number: '0912345678' });
  await createPhone(knex(), w.student, { number: '0922333444' });
  await createPhone(knex(), w.student, { number: '0933000111', verified: false });
  await createPhone(knex(), mei, { number: '0955666777' });
  await createPhone(knex(), hua, { number: '0966777888' });
  return { ...w, mei, qiang, hua };
}

const counts = async () => ({
  messages: Number((await knex()('messages').count({ n: '*' }).first())?.n),
  outbox: Number((await knex()('sms_outbox').count({ n: '*' }).first())?.n),
});

describe('訊息發送服務', () => {
  it('a teacher sends to the whole class: one outbox row per verified phone, in one go, audited', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const page = await agent.get('/messages');
    expect(page.status).toBe(200);
    expect(page.text).toContain('陳小美');
    expect(page.text).not.toContain('張小華');
    const res = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '明天戶外教學，請準時到校。',
    });
    // Prose keeps its Chinese punctuation (NFC, not NFKC).
    expect(res.status).toBe(303);
    const msg = await knex()('messages').first();
    expect(msg).toMatchObject({
      school_id: w.schoolId,
      class_id: w.class401,
      author_account_id: w.teacher401,
      body: '明天戶外教學，請準時到校。',
      recipient_count: 3,
    });
    const out = await knex()('sms_outbox')
      .orderBy('id')
      .select('phone', 'kind', 'message_id', 'status', 'student_id', 'body');
    expect(out.map((o) => o.phone).sort()).toEqual(['0912345678', '0922333444', '0955666777']);
    expect(
      out.every((o) => o.kind === 'message' && o.message_id === msg.id && o.status === 'queued' && o.body === msg.body),
    ).toBe(true);
    expect(await knex()('audit_log').where({ action: 'message.sent' }).count({ n: '*' }).first()).toMatchObject({
      n: 1,
    });

    const detail = await agent.get(locationOf(res));
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('0912-***-678');
    expect(detail.text).not.toContain('0912345678');
    expect(detail.text).toContain('待發送');
    await knex()('sms_outbox').where({ phone: '0912345678' }).update({ status: 'delivered' });
    await knex()('sms_outbox').where({ phone: '0955666777' }).update({ status: 'failed' });
    const detail2 = await agent.get(locationOf(res));
    expect(detail2.text).toContain('已送達');
    expect(detail2.text).toContain('發送失敗');
    expect((await agent.get('/messages')).text).toContain('共 3 則：已送達 1、已發送 0、待發送 1、發送失敗 1');
  });

  it('goes out through the dispatcher; the sent list shows each recipient’s status', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '家長會延期',
    });
    expect(res.status).toBe(303);
    const sent: OutgoingSms[] = [];
    const provider: SmsProvider = {
      name: 'test',
      async send(sms: OutgoingSms): Promise<SendResult> {
        sent.push(sms);
        return sms.phone === '0955666777'
          ? { ok: false, error: 'bad number', permanent: true, code: 'invalid_number' as const }
          : { ok: true, providerMessageId: `t-${sms.id}` };
      },
    };
    const d = new SmsDispatcher({ knex: knex(), clock, provider, maxAttempts: 1 });
    await d.runOnce();
    expect(sent.map((s) => s.phone).sort()).toEqual(['0912345678', '0922333444', '0955666777']);
    expect(sent.every((s) => s.body === '家長會延期')).toBe(true);
    const detail = await agent.get(locationOf(res));
    expect((detail.text.match(/>已發送</g) ?? []).length).toBe(2);
    expect(detail.text).toContain('>發送失敗（號碼錯誤）<');
    expect((await agent.get('/messages')).text).toContain('共 3 則：已送達 0、已發送 2、待發送 0、發送失敗 1');
  });

  it('sends to chosen students only', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'students',
      studentIds: [String(w.mei)],
      body: '請帶作業',
    });
    expect(res.status).toBe(303);
    expect(await knex()('sms_outbox').pluck('phone')).toEqual(['0955666777']);
  });

  it('refuses another class’s student or class with 404 and writes nothing', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const mixed = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'students',
      studentIds: [String(w.mei), String(w.hua)],
      body: '嗨',
    });
    expect(mixed.status).toBe(404);
    const otherClass = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class402),
      audience: 'class',
      body: '嗨',
    });
    expect(otherClass.status).toBe(404);
    const school = await postForm(agent, '/messages', '/messages', { audience: 'school', body: '嗨' });
    expect(school.status).toBe(404);
    expect((await agent.get(`/messages?classId=${w.class402}`)).status).toBe(404);
    expect(await counts()).toEqual({ messages: 0, outbox: 0 });
  });

  it('refuses more than 70 characters (code points), accepts exactly 70', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const long = '家'.repeat(71);
    const res = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: long,
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('訊息最多 70 個字');
    expect(res.text).toContain('目前 71 字');
    expect(await counts()).toEqual({ messages: 0, outbox: 0 });
    const emoji = '😀'.repeat(70);
    expect(smsLength(emoji)).toBe(70);
    const ok = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: emoji,
    });
    expect(ok.status).toBe(303);
    expect((await knex()('messages').first()).body).toBe(emoji);
  });

  it('says so when nobody has a verified phone, and writes nothing', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const res = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'students',
      studentIds: String(w.qiang),
      body: '嗨',
    });
    expect(res.status).toBe(422);
    expect(res.text).toContain('沒有已驗證的手機號碼');
    expect(await counts()).toEqual({ messages: 0, outbox: 0 });
  });

  it('limits an account to 10 messages an hour', async () => {
    const w = await world();
    const agent = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    for (let i = 0; i < MESSAGES_PER_HOUR; i++) {
      const r = await postForm(agent, '/messages', '/messages', {
        classId: String(w.class401),
        audience: 'class',
        body: `第${i}則`,
      });
      expect(r.status).toBe(303);
    }
    const over = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '太多了',
    });
    expect(over.status).toBe(429);
    expect(over.text).toContain('每個帳號每小時最多發送 10 則訊息');
    expect((await counts()).messages).toBe(10);
    // An hour later (moved in the data, so the session stays fresh): allowed again.
    await knex()('messages').update({ created_at: new Date(Date.parse('2026-11-23T23:59:00Z')) });
    const later = await postForm(agent, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '一小時後',
    });
    expect(later.status).toBe(303);
  });

  it('holds the limit under concurrent sends (one count per account under a lock)', async () => {
    const w = await world();
    const user = (await loadCurrentUser(knex(), { accountId: w.teacher401 }))!;
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        sendMessage(knex(), user, { kind: 'class', classId: w.class401 }, `併發${i}`, clock.now(), userActor(user)),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(MESSAGES_PER_HOUR);
    expect(results.filter((r) => !r.ok && r.reason === 'rate_limited')).toHaveLength(14 - MESSAGES_PER_HOUR);
    expect((await counts()).messages).toBe(MESSAGES_PER_HOUR);
    expect((await counts()).outbox).toBe(MESSAGES_PER_HOUR * 3);
  });

  it('a school admin sends to the whole school; a teacher of 402 cannot see 401’s message', async () => {
    const w = await world();
    const admin = await signedIn(app, { role: 'school_admin', schoolId: w.schoolId, login: 'admin' });
    const res = await postForm(admin, '/messages', '/messages', { audience: 'school', body: '颱風停課通知' });
    expect(res.status).toBe(303);
    expect((await knex()('sms_outbox').pluck('phone')).sort()).toEqual([
      '0912345678',
      '0922333444',
      '0955666777',
      '0966777888',
    ]);
    expect((await knex()('messages').first()).class_id).toBeNull();

    const t401 = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    const sent = await postForm(t401, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '401 專屬',
    });
    const t402 = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't402' });
    expect((await t402.get(locationOf(sent))).status).toBe(404);
    expect((await t402.get('/messages')).text).not.toContain('401 專屬');
  });

  it('a parent sees the messages sent to their child, read-only; no sending, no detail', async () => {
    const w = await world();
    const t401 = await signedIn(app, { role: 'teacher', schoolId: w.schoolId, login: 't401' });
    await postForm(t401, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'students',
      studentIds: String(w.mei),
      body: '只給陳小美',
    });
    const toAll = await postForm(t401, '/messages', '/messages', {
      classId: String(w.class401),
      audience: 'class',
      body: '給全班',
    });
    const parent = await signedIn(app, { schoolId: w.schoolId, login: '11301001' });
    const page = await parent.get('/messages');
    expect(page.status).toBe(200);
    expect(page.text).toContain('給全班');
    expect(page.text).not.toContain('只給陳小美');
    expect(page.text).not.toContain('<textarea');
    expect((await parent.get(locationOf(toAll))).status).toBe(404);
    expect(
      (await postForm(parent, '/messages', '/messages', { classId: String(w.class401), audience: 'class', body: 'x' }))
        .status,
    ).toBe(404);
    expect((await counts()).messages).toBe(2);
  });
});
