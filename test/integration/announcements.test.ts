import { describe, expect, it } from 'vitest';
import { testDb } from '../support/db.js';
import { postForm, signedIn, useTestApp } from '../support/app.js';
import { addChild, createClass, createSchoolWorld, createStudent } from '../support/factories.js';
import { createAnnouncement } from '../support/content-factories.js';
import { bodyLines, safeHref } from '../../src/domain/announcements/rich-text.js';

const { app } = useTestApp();
const knex = () => testDb().knex;

async function twoSchools() {
  const a = await createSchoolWorld(knex());
  const b = await createSchoolWorld(knex(), { schoolName: '市立景美國中', district: '文山區' });
  return { a, b };
}

describe('公告資訊服務', () => {
  it('shows the bureau and own school announcements, pinned first then newest, never another school', async () => {
    const { a, b } = await twoSchools();
    await createAnnouncement(knex(), { schoolId: null, title: '教育局公告', publishedAt: '2026-11-10T01:00:00Z' });
    await createAnnouncement(knex(), {
      schoolId: a.schoolId,
      title: '忠孝新公告',
      publishedAt: '2026-11-22T01:00:00Z',
    });
    await createAnnouncement(knex(), {
      schoolId: a.schoolId,
      title: '忠孝置頂',
      pinned: true,
      publishedAt: '2026-11-01T01:00:00Z',
    });
    const otherId = await createAnnouncement(knex(), { schoolId: b.schoolId, title: '景美祕密公告' });
    await createAnnouncement(knex(), {
      schoolId: a.schoolId,
      title: '已撤回公告',
      withdrawnAt: '2026-11-21T01:00:00Z',
    });
    await createAnnouncement(knex(), { schoolId: a.schoolId, title: '未來公告', publishedAt: '2026-12-30T01:00:00Z' });

    for (const who of [
      { role: 'parent' as const, login: '11301001' },
      { role: 'teacher' as const, login: 't401' },
      { role: 'school_admin' as const, login: 'admin' },
    ]) {
      const agent = await signedIn(app, { ...who, schoolId: a.schoolId });
      const res = await agent.get('/announcements');
      expect(res.status).toBe(200);
      const pinned = res.text.indexOf('忠孝置頂');
      const newest = res.text.indexOf('忠孝新公告');
      const bureau = res.text.indexOf('教育局公告');
      expect(pinned).toBeGreaterThan(0);
      expect(pinned).toBeLessThan(newest);
      expect(newest).toBeLessThan(bureau);
      expect(res.text).not.toContain('景美祕密公告');
      expect(res.text).not.toContain('已撤回公告');
      expect(res.text).not.toContain('未來公告');
      expect((await agent.get(`/announcements/${otherId}`)).status).toBe(404);
      expect((await agent.get('/announcements/abc')).status).toBe(404);
    }
  });

  it('a parent sees the announcements of each child’s school', async () => {
    const { a, b } = await twoSchools();
    const otherClass = await createClass(knex(), b.schoolId, { code: '701', name: '七年一班' });
    const sibling = await createStudent(knex(), otherClass, { name: '王小華', studentNumber: '11201009', seat: 9 });
    await addChild(knex(), a.parent.guardianId, sibling);
    const id = await createAnnouncement(knex(), { schoolId: b.schoolId, title: '景美家長公告' });
    const agent = await signedIn(app, { schoolId: a.schoolId, login: '11301001' });
    expect((await agent.get('/announcements')).text).toContain('景美家長公告');
    expect((await agent.get(`/announcements/${id}`)).status).toBe(200);
  });

  it('pages the list (the list kit: 50 a page, a bad page number answered 400 with a message)', async () => {
    const { a } = await twoSchools();
    for (let i = 1; i <= 55; i++)
      await createAnnouncement(knex(), {
        schoolId: a.schoolId,
        title: `第${i}號公告`,
        publishedAt: new Date(Date.UTC(2026, 8, 1) + i * 86_400_000).toISOString(),
      });
    const agent = await signedIn(app, { schoolId: a.schoolId, login: '11301001' });
    const p1 = await agent.get('/announcements');
    expect(p1.text).toContain('總筆數：55');
    expect(p1.text).toContain('第55號公告');
    expect(p1.text).not.toContain('第5號公告<');
    const p2 = await agent.get('/announcements?page=2');
    expect(p2.text).toContain('第5號公告<');
    expect(p2.text).toContain('51-55');
    const bad = await agent.get('/announcements?page=x');
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('查詢條件有誤');
    expect(bad.text).not.toContain('第55號公告');
  });

  it('renders markup and javascript: links inert, keeps line breaks, links http(s) safely', async () => {
    const { a } = await twoSchools();
    const id = await createAnnouncement(knex(), {
      schoolId: a.schoolId,
      title: '<script>alert(1)</script>標題',
      body: '第一行<img src=x onerror=alert(1)>\n請看 https://www.gov.taipei/news?id=1&x=2。\njavascript:alert(1) 與 <a href="javascript:alert(2)">點我</a>',
    });
    const agent = await signedIn(app, { schoolId: a.schoolId, login: '11301001' });
    const res = await agent.get(`/announcements/${id}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;標題');
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).not.toMatch(/href="javascript:/i);
    expect(res.text).toContain('<a href="https://www.gov.taipei/news?id=1&amp;x=2" rel="noopener noreferrer"');
    expect((res.text.match(/class="announcement-line"/g) ?? []).length).toBe(3);
    const list = await agent.get('/announcements');
    expect(list.text).not.toContain('<script>alert(1)');
  });

  it('turns only http(s) URLs into links', () => {
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('https://example.org/a')).toBe('https://example.org/a');
    const lines = bodyLines('a http://x.tw/b, c\n\njavascript://x.tw/%0aalert(1)');
    expect(lines[0]).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'link', text: 'http://x.tw/b', href: 'http://x.tw/b' },
      { kind: 'text', text: ', c' },
    ]);
    expect(lines[1]).toEqual([]);
    expect(lines[2]?.every((s) => s.kind === 'text' || s.href.startsWith('http'))).toBe(true);
  });

  it('a school admin writes, edits and withdraws the school’s announcements; audited', async () => {
    const { a } = await twoSchools();
    const agent = await signedIn(app, { role: 'school_admin', schoolId: a.schoolId, login: 'admin' });
    const created = await postForm(agent, '/announcements/new', '/announcements', {
      title: '運動會',
      body: '第一行\n第二行',
      pinned: '1',
    });
    expect(created.status).toBe(303);
    const row = await knex()('announcements').first();
    expect(row).toMatchObject({ school_id: a.schoolId, title: '運動會', body: '第一行\n第二行', pinned: true });
    expect(created.headers.location).toBe(`/announcements/${row.id}`);

    const bad = await postForm(agent, '/announcements/new', '/announcements', { title: '', body: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('此欄位必填');
    const extra = await postForm(agent, '/announcements/new', '/announcements', {
      title: 't',
      body: 'x',
      school_id: '999',
    });
    expect(extra.status).toBe(422);
    expect(await knex()('announcements').count({ n: '*' }).first()).toMatchObject({ n: 1 });

    const edited = await postForm(agent, `/announcements/${row.id}/edit`, `/announcements/${row.id}/edit`, {
      title: '運動會(改期)',
      body: '改到下週',
    });
    expect(edited.status).toBe(303);
    expect(await knex()('announcements').where({ id: row.id }).first()).toMatchObject({
      title: '運動會(改期)',
      pinned: false,
    });

    const withdrawn = await postForm(agent, `/announcements/${row.id}`, `/announcements/${row.id}/withdraw`, {});
    expect(withdrawn.status).toBe(303);
    expect((await knex()('announcements').where({ id: row.id }).first()).withdrawn_at).not.toBeNull();
    expect((await agent.get(`/announcements/${row.id}`)).status).toBe(404);
    expect((await agent.get('/announcements/manage')).text).toContain('已撤回');
    const actions = await knex()('audit_log').where('action', 'like', 'announcement.%').orderBy('id').pluck('action');
    expect(actions).toEqual(['announcement.created', 'announcement.updated', 'announcement.withdrawn']);
  });

  it('another school’s or the bureau’s announcement cannot be edited or withdrawn (404, unchanged)', async () => {
    const { a, b } = await twoSchools();
    const other = await createAnnouncement(knex(), { schoolId: b.schoolId, title: '景美' });
    const bureau = await createAnnouncement(knex(), { schoolId: null, title: '教育局' });
    const agent = await signedIn(app, { role: 'school_admin', schoolId: a.schoolId, login: 'admin' });
    for (const id of [other, bureau]) {
      expect((await agent.get(`/announcements/${id}/edit`)).status).toBe(404);
      expect(
        (await postForm(agent, '/announcements/new', `/announcements/${id}/edit`, { title: 'x', body: 'y' })).status,
      ).toBe(404);
      expect((await postForm(agent, '/announcements/new', `/announcements/${id}/withdraw`, {})).status).toBe(404);
    }
    const rows = await knex()('announcements').orderBy('id').select('title', 'withdrawn_at');
    expect(rows).toEqual([
      { title: '景美', withdrawn_at: null },
      { title: '教育局', withdrawn_at: null },
    ]);
  });

  it('teachers and parents cannot manage announcements (404)', async () => {
    const { a } = await twoSchools();
    const id = await createAnnouncement(knex(), { schoolId: a.schoolId, title: '本校' });
    for (const who of [
      { role: 'parent' as const, login: '11301001' },
      { role: 'teacher' as const, login: 't401' },
    ]) {
      const agent = await signedIn(app, { ...who, schoolId: a.schoolId });
      expect((await agent.get('/announcements/new')).status).toBe(404);
      expect((await agent.get('/announcements/manage')).status).toBe(404);
      expect((await agent.get(`/announcements/${id}/edit`)).status).toBe(404);
      expect((await postForm(agent, '/announcements', '/announcements', { title: 'x', body: 'y' })).status).toBe(404);
      expect((await postForm(agent, '/announcements', `/announcements/${id}/withdraw`, {})).status).toBe(404);
    }
    expect(await knex()('announcements').count({ n: '*' }).first()).toMatchObject({ n: 1 });
  });
});
