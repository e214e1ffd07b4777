import type { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { requireRole, signedInRouter } from '../middleware/auth.js';
import { allow } from './menu.js';
import * as subscriptions from '../controllers/subscriptions-controller.js';
import * as cancellations from '../controllers/cancellations-controller.js';
import * as reviews from '../controllers/reviews-controller.js';
import * as periods from '../controllers/periods-controller.js';
import * as refunds from '../controllers/refunds-controller.js';
import * as payments from '../controllers/payments-controller.js';
import * as decisionNotices from '../controllers/decision-notices-controller.js';
import * as teachers from '../controllers/teachers-controller.js';

/** 到離校簡訊服務: orders, cancellations, reviews, service periods, refunds. */
export function smsRoutes(_deps: AppDeps): Router {
  const r = signedInRouter('/sms', '/reviews');
  const staff = requireRole('teacher', 'school_admin');
  const admin = requireRole('school_admin');
  const parent = requireRole('parent');

  r.get('/sms', allow('sms'), subscriptions.landing);
  r.get('/sms/subscriptions', allow('sms.subscriptions'), subscriptions.list);
  r.get('/sms/subscriptions/new', parent, subscriptions.newForm);
  r.post('/sms/subscriptions', parent, subscriptions.create);
  r.get('/sms/subscriptions/:id/cancellation/new', parent, subscriptions.cancelConfirm);
  r.post('/sms/subscriptions/:id/cancellation', parent, subscriptions.cancel);
  r.get('/sms/subscriptions/:id/history', subscriptions.history);

  r.get('/sms/cancellations', allow('sms.cancellations'), cancellations.list);
  r.post('/sms/cancellations/:id/withdrawal', parent, cancellations.withdraw);
  r.post('/sms/requests/:id/withdrawal', parent, cancellations.withdraw);
  r.post('/sms/decision-notices/dismissal', parent, decisionNotices.dismissAllShown);
  r.post('/sms/decision-notices/:id/dismissal', parent, decisionNotices.dismiss);

  r.get('/reviews', allow('reviews'), reviews.list);
  r.post('/reviews/batch-approval', staff, reviews.batchApprove);
  r.post('/reviews/:id/approval', staff, reviews.approve);
  r.get('/reviews/:id/rejection/new', staff, reviews.rejectForm);
  r.post('/reviews/:id/rejection', staff, reviews.reject);

  r.get('/sms/periods', allow('sms.periods'), periods.list);
  r.post('/sms/periods', admin, periods.create);
  r.get('/sms/periods/:id/edit', admin, periods.edit);
  r.post('/sms/periods/:id', admin, periods.update);

  r.post('/sms/refunds/:id/payment', admin, refunds.markPaid);
  r.get('/sms/teachers', allow('sms.teachers'), teachers.index);

  // 繳費 and the printable pages (繳費通知單, 收據, 退費清單).
  r.get('/sms/payments', allow('sms.payments'), payments.index);
  r.post('/sms/payments', admin, payments.create);
  r.get('/sms/payments/notices', staff, payments.notices);
  r.get('/sms/payments/:id/receipt', payments.receipt);
  r.get('/sms/refunds', admin, payments.refundList);
  return r;
}
