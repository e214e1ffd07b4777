/** 到離校簡訊註冊服務 (phones), 簡訊發送紀錄 (SMS log) and the SMS gateway's delivery-report callback. */
import express, { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { requireRole, signedInRouter } from '../middleware/auth.js';
import { allow } from './menu.js';
import * as phones from '../controllers/phones-controller.js';
import * as smsLog from '../controllers/sms-log-controller.js';
import { mitakeCallback } from '../controllers/sms-callback-controller.js';

export function phoneAndSmsRoutes(_deps: AppDeps): Router {
  const r = signedInRouter('/sms/phones', '/sms/log');
  const parent = requireRole('parent');
  r.get('/sms/phones', allow('sms.phones'), phones.index);
  r.post('/sms/phones', parent, phones.create);
  r.post('/sms/phones/:id/verification', parent, phones.verify);
  r.post('/sms/phones/:id/code', parent, phones.resend);
  r.post('/sms/phones/:id/deletion', parent, phones.destroy);
  r.get('/sms/log', allow('sms.log'), smsLog.index);
  r.post('/sms/log/resend', requireRole('school_admin'), smsLog.resendDay);
  r.post('/sms/log/:id/resend', requireRole('school_admin'), smsLog.resend);
  return r;
}

/** Under /api/v1: no session, no CSRF; the token in the URL is the credential. */
export function smsApiRoutes(_deps: AppDeps): Router {
  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 50 });
  r.get('/sms/mitake/callback', mitakeCallback);
  r.post('/sms/mitake/callback', form, mitakeCallback);
  return r;
}
