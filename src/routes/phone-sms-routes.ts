/** 到離校簡訊註冊服務 (phones), 簡訊發送紀錄 (SMS log) and the SMS gateway's delivery-report callback. */
import express, { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { requireRole, requireUser } from '../middleware/auth.js';
import * as phones from '../controllers/phones-controller.js';
import * as smsLog from '../controllers/sms-log-controller.js';
import { mitakeCallback } from '../controllers/sms-callback-controller.js';

export function phoneAndSmsRoutes(_deps: AppDeps): Router {
  const r = Router();
  const parent = requireRole('parent');
  const staff = requireRole('teacher', 'school_admin');
  r.get('/sms/phones', requireUser, phones.index);
  r.post('/sms/phones', requireUser, parent, phones.create);
  r.post('/sms/phones/:id/verification', requireUser, parent, phones.verify);
  r.post('/sms/phones/:id/code', requireUser, parent, phones.resend);
  r.post('/sms/phones/:id/deletion', requireUser, parent, phones.destroy);
  r.get('/sms/log', requireUser, staff, smsLog.index);
  r.post('/sms/log/resend', requireUser, requireRole('school_admin'), smsLog.resendDay);
  r.post('/sms/log/:id/resend', requireUser, requireRole('school_admin'), smsLog.resend);
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
