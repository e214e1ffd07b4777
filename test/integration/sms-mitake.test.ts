import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FixedClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { backoffMs, SmsDispatcher } from '../../src/domain/sms/dispatcher.js';
import { MitakeProvider, parseMitakeResponse } from '../../src/domain/sms/providers/mitake-provider.js';
import { mitakeCallbackUrl, providerFromConfig } from '../../src/domain/sms/providers/index.js';
import { closeTestDb, resetDb, testDb } from '../support/db.js';
import { buildTestApp } from '../support/app.js';
import { createOutbox } from '../support/sms-factories.js';

const knex = testDb().knex;
const TOKEN = 'callback-token-0123456789abcdef';
const { app, clock: appClock } = buildTestApp({ env: { SMS_CALLBACK_TOKEN: TOKEN } });

/** A loopback gateway speaking Mitake's SmSend format; `reply` decides each answer. */
interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  form: URLSearchParams;
  contentType: string;
}
let received: Received[] = [];
let reply: (r: Received, n: number) => { status?: number; body: string } = () => ({ body: '' });
let gateway: Server;
let gatewayUrl = '';

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });

beforeAll(async () => {
  gateway = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const r: Received = {
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      form: new URLSearchParams(await readBody(req)),
      contentType: String(req.headers['content-type'] ?? ''),
    };
    received.push(r);
    const out = reply(r, received.length);
    res.writeHead(out.status ?? 200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(out.body);
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/api/mtk/SmSend`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
  await app.shutdown();
  await closeTestDb();
});
beforeEach(async () => {
  await resetDb();
  received = [];
});

const accepted = (msgid: string, code = '1') => ({
  body: `[1]\r\nmsgid=${msgid}\r\nstatuscode=${code}\r\nAccountPoint=98\r\n`,
});
const NOW = '2026-11-24T01:00:00Z';

function dispatcher(clock: FixedClock, maxAttempts = 3) {
  const provider = new MitakeProvider({
    url: gatewayUrl,
    username: 'school-account',
    password: 'gateway-secret',
    callbackUrl: `https://portal.example.test/api/v1/sms/mitake/callback?token=${TOKEN}`,
    timeoutMs: 2000,
  });
  return new SmsDispatcher({ knex, clock, provider, maxAttempts });
}

describe('the Mitake provider', () => {
  it('parses the gateway response lines', () => {
    expect(parseMitakeResponse('[1]\r\nmsgid=#000000123\r\nstatuscode=1\r\nAccountPoint=98\r\n')).toEqual({
      msgid: '#000000123',
      statuscode: '1',
      AccountPoint: '98',
    });
    expect(parseMitakeResponse('statuscode=e\nError=帳號、密碼錯誤')).toEqual({
      statuscode: 'e',
      Error: '帳號、密碼錯誤',
    });
  });

  it('posts the documented fields in UTF-8 and records the msgid', async () => {
    reply = () => accepted('1010079522');
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, {
      phone: '0912345678',
      body: '【臺北市數位學生證】王小明已於07:42到校。',
      nextAttemptAt: new Date(NOW),
    });
    expect(await dispatcher(clock).runOnce()).toMatchObject({ sent: 1 });

    expect(received).toHaveLength(1);
    const r = received[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/api/mtk/SmSend');
    expect(r.query.get('CharsetURL')).toBe('UTF8');
    expect(r.contentType).toContain('application/x-www-form-urlencoded');
    expect(Object.fromEntries(r.form)).toEqual({
      username: 'school-account',
      password: 'gateway-secret',
      dstaddr: '0912345678',
      smbody: '【臺北市數位學生證】王小明已於07:42到校。',
      clientid: `sms-${id}`,
      response: `https://portal.example.test/api/v1/sms/mitake/callback?token=${TOKEN}`,
    });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'sent',
      provider: 'mitake',
      provider_message_id: '1010079522',
      attempts: 1,
    });
  });

  it('retries a refused send with backoff and marks it failed after the last attempt', async () => {
    reply = () => ({ body: '[1]\r\nstatuscode=r\r\n' }); // 系統暫停服務
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const d = dispatcher(clock, 3);
    expect(await d.runOnce()).toMatchObject({ retried: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'queued',
      attempts: 1,
      last_error: '三竹 statuscode=r：系統暫停服務，請稍後再試',
    });
    clock.advance(backoffMs(1));
    reply = () => ({ status: 503, body: 'busy' });
    expect(await d.runOnce()).toMatchObject({ retried: 1 });
    expect((await knex('sms_outbox').where({ id }).first()).last_error).toBe('三竹簡訊閘道回應 HTTP 503');
    clock.advance(backoffMs(2));
    reply = () => ({ body: '[1]\r\nstatuscode=e\r\n' });
    expect(await d.runOnce()).toMatchObject({ failed: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_error: '三竹 statuscode=e：帳號、密碼錯誤',
      provider_message_id: null,
    });
    expect(received).toHaveLength(3);
  });

  it('a failure that is retried and then succeeds', async () => {
    reply = (_r, n) => (n === 1 ? { body: '[1]\r\nstatuscode=*\r\n' } : accepted('777'));
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const d = dispatcher(clock);
    expect(await d.runOnce()).toMatchObject({ retried: 1 });
    clock.advance(backoffMs(1));
    expect(await d.runOnce()).toMatchObject({ sent: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'sent',
      attempts: 2,
      provider_message_id: '777',
    });
    expect(received.map((r) => r.form.get('clientid'))).toEqual([`sms-${id}`, `sms-${id}`]);
  });

  it('fails a bad number at once (statuscode v)', async () => {
    reply = () => ({ body: '[1]\r\nstatuscode=v\r\n' });
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    expect(await dispatcher(clock, 5).runOnce()).toMatchObject({ failed: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'failed',
      attempts: 1,
      failure_code: 'invalid_number',
    });
  });

  it('treats an unreachable gateway as a retryable failure', async () => {
    const clock = new FixedClock(NOW);
    const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
    const provider = new MitakeProvider({
      url: 'http://127.0.0.1:1/api/mtk/SmSend',
      username: 'u',
      password: 'p',
      timeoutMs: 1000,
    });
    const d = new SmsDispatcher({ knex, clock, provider, maxAttempts: 3 });
    expect(await d.runOnce()).toMatchObject({ retried: 1 });
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      last_error: '三竹簡訊閘道無法連線',
      failure_code: 'unreachable',
    });
  });

  it('a gateway that does not answer in time is 閘道逾時 (gateway_timeout), retried', async () => {
    const silent = createServer(() => {
      /* never answers */
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const clock = new FixedClock(NOW);
      const id = await createOutbox(knex, { nextAttemptAt: new Date(NOW) });
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api/mtk/SmSend`;
      const d = new SmsDispatcher({
        knex,
        clock,
        provider: new MitakeProvider({ url, username: 'u', password: 'p', timeoutMs: 200 }),
        maxAttempts: 3,
      });
      expect(await d.runOnce()).toMatchObject({ retried: 1 });
      expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
        status: 'queued',
        last_error: '三竹簡訊閘道逾時',
        failure_code: 'gateway_timeout',
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  it('is chosen by the settings, with the callback URL carrying the token', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      SMS_PROVIDER: 'mitake',
      MITAKE_URL: gatewayUrl,
      MITAKE_USERNAME: 'u',
      MITAKE_PASSWORD: 'p',
      SMS_CALLBACK_TOKEN: TOKEN,
      PUBLIC_URL: 'https://portal.example.test',
    });
    expect(providerFromConfig(config).name).toBe('mitake');
    expect(mitakeCallbackUrl(config)).toBe(`https://portal.example.test/api/v1/sms/mitake/callback?token=${TOKEN}`);
    expect(providerFromConfig(loadConfig({ NODE_ENV: 'test' })).name).toBe('log');
  });
});

describe('the delivery-report callback', () => {
  async function sentRow(msgid: string) {
    const id = await createOutbox(knex, { status: 'sent' });
    await knex('sms_outbox')
      .where({ id })
      .update({ provider: 'mitake', provider_message_id: msgid, sent_at: new Date(NOW) });
    return id;
  }

  it('marks a message delivered (statuscode 4) and answers the acknowledgement', async () => {
    appClock.set('2026-11-24T01:00:30Z');
    const id = await sentRow('1010079522');
    const res = await request(app).get(
      `/api/v1/sms/mitake/callback?token=${TOKEN}&msgid=1010079522&dstaddr=0912345678&dlvtime=20261124090000&donetime=20261124090030&statuscode=4&statusstr=DELIVRD&StatusFlag=4`,
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('magicid=sms_gateway_rpack');
    expect(res.text).toContain('msgid=1010079522');
    const row = await knex('sms_outbox').where({ id }).first();
    expect(row.status).toBe('delivered');
    expect(new Date(row.delivered_at).toISOString()).toBe('2026-11-24T01:00:30.000Z');
  });

  it('accepts a POST report and marks an undeliverable message failed', async () => {
    const id = await sentRow('555');
    const res = await request(app)
      .post(`/api/v1/sms/mitake/callback?token=${TOKEN}`)
      .type('form')
      .send({ msgid: '555', statuscode: '6', statusstr: 'UNDELIV' });
    expect(res.status).toBe(200);
    expect(await knex('sms_outbox').where({ id }).first()).toMatchObject({
      status: 'failed',
      last_error: '三竹 statuscode=6：門號有錯誤（傳送報告）',
      failure_code: 'invalid_number',
    });
  });

  it('refuses a missing or wrong token, and junk, changing nothing', async () => {
    const id = await sentRow('999');
    expect((await request(app).get('/api/v1/sms/mitake/callback?msgid=999&statuscode=4')).status).toBe(404);
    expect(
      (await request(app).get('/api/v1/sms/mitake/callback?token=wrong-token-wrong-token&msgid=999&statuscode=4'))
        .status,
    ).toBe(404);
    expect(
      (await request(app).get(`/api/v1/sms/mitake/callback?token=${TOKEN}&token=x&msgid=999&statuscode=4`)).status,
    ).toBe(404);
    expect(
      (await request(app).get(`/api/v1/sms/mitake/callback?token=${TOKEN}&msgid=999&msgid=1&statuscode=4`)).status,
    ).toBe(400);
    expect((await request(app).get(`/api/v1/sms/mitake/callback?token=${TOKEN}&msgid=%00&statuscode=4`)).status).toBe(
      400,
    );
    expect((await knex('sms_outbox').where({ id }).first()).status).toBe('sent');
    // An intermediate status changes nothing.
    expect((await request(app).get(`/api/v1/sms/mitake/callback?token=${TOKEN}&msgid=999&statuscode=1`)).status).toBe(
      200,
    );
    expect((await knex('sms_outbox').where({ id }).first()).status).toBe('sent');
  });

  it('does not exist without a configured token', async () => {
    const plain = buildTestApp();
    try {
      expect((await request(plain.app).get('/api/v1/sms/mitake/callback?token=&msgid=1&statuscode=4')).status).toBe(
        404,
      );
    } finally {
      await plain.app.shutdown();
    }
  });
});
