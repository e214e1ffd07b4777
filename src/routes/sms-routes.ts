import { Router } from 'express';
import type { AppDeps } from '../deps.js';
import { requireRole, requireUser } from '../middleware/auth.js';
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
  const r = Router();
  const staff = requireRole('teacher', 'school_admin');
  const admin = requireRole('school_admin');
  const parent = requireRole('parent');

  r.get('/sms', requireUser, subscriptions.landing);
  r.get('/sms/subscriptions', requireUser, subscriptions.list);
  r.get('/sms/subscriptions/new', requireUser, parent, subscriptions.newForm);
  r.post('/sms/subscriptions', requireUser, parent, subscriptions.create);
  r.get('/sms/subscriptions/:id/cancellation/new', requireUser, parent, subscriptions.cancelConfirm);
  r.post('/sms/subscriptions/:id/cancellation', requireUser, parent, subscriptions.cancel);
  r.get('/sms/subscriptions/:id/history', requireUser, subscriptions.history);

  r.get('/sms/cancellations', requireUser, cancellations.list);
  r.post('/sms/cancellations/:id/withdrawal', requireUser, parent, cancellations.withdraw);
  r.post('/sms/requests/:id/withdrawal', requireUser, parent, cancellations.withdraw);
  r.post('/sms/decision-notices/dismissal', requireUser, parent, decisionNotices.dismissAllShown);
  r.post('/sms/decision-notices/:id/dismissal', requireUser, parent, decisionNotices.dismiss);

  r.get('/reviews', requireUser, staff, reviews.list);
  r.post('/reviews/batch-approval', requireUser, staff, reviews.batchApprove);
  r.post('/reviews/:id/approval', requireUser, staff, reviews.approve);
  r.get('/reviews/:id/rejection/new', requireUser, staff, reviews.rejectForm);
  r.post('/reviews/:id/rejection', requireUser, staff, reviews.reject);

  r.get('/sms/periods', requireUser, staff, periods.list);
  r.post('/sms/periods', requireUser, admin, periods.create);
  r.get('/sms/periods/:id/edit', requireUser, admin, periods.edit);
  r.post('/sms/periods/:id', requireUser, admin, periods.update);

  r.post('/sms/refunds/:id/payment', requireUser, admin, refunds.markPaid);
  r.get('/sms/teachers', requireUser, admin, teachers.index);

  // 繳費 and the printable pages (繳費通知單, 收據, 退費清單).
  r.get('/sms/payments', requireUser, admin, payments.index);
  r.post('/sms/payments', requireUser, admin, payments.create);
  r.get('/sms/payments/notices', requireUser, staff, payments.notices);
  r.get('/sms/payments/:id/receipt', requireUser, payments.receipt);
  r.get('/sms/refunds', requireUser, admin, payments.refundList);
  return r;
}
