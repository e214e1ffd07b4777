/**
 * The URL map. Machine APIs (bearer tokens, JSON) are mounted before the session and CSRF middleware;
 * pages after. Each area's routes live in their own file beside this one.
 */
import { Router, type Express, type RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import * as sessions from '../controllers/sessions-controller.js';
import * as home from '../controllers/home-controller.js';
import { requireUser } from '../middleware/auth.js';
import { apiRoutes } from './api-routes.js';
import { attendanceRoutes } from './attendance-routes.js';
import { authRoutes } from './auth-routes.js';
import { usesDevIdp } from '../domain/accounts/taipei-card.js';
import { contentRoutes } from './content-routes.js';
import { smsRoutes } from './sms-routes.js';
import { phoneAndSmsRoutes, smsApiRoutes } from './phone-sms-routes.js';

export function mountApi(app: Express, deps: AppDeps): void {
  const api = Router();
  api.get('/schools', sessions.schoolsJson);
  api.use('/v1', apiRoutes(deps));
  api.use('/v1', smsApiRoutes(deps));
  app.use('/api', api);
  // The development Taipei Card identity provider (never in production), before the portal's session and CSRF.
  // Loaded on its first request, so that a process which never uses it does not load oidc-provider at all.
  if (usesDevIdp(deps.config)) {
    let idp: Promise<RequestHandler> | undefined;
    app.use((req, res, next) => {
      if (req.path !== '/dev-idp' && !req.path.startsWith('/dev-idp/')) return next();
      idp ??= import('../dev/dev-idp.js').then((m) => m.devIdentityProvider(deps));
      idp.then((handler) => handler(req, res, next), next);
    });
  }
}

export function mountPages(app: Express, deps: AppDeps): void {
  const r = Router();
  r.get('/login', sessions.newSession);
  r.post('/login', sessions.createSession);
  r.get('/login/captcha', sessions.captchaImage);
  r.post('/logout', sessions.destroy);
  r.get('/password-help', home.passwordHelp);
  r.get('/', requireUser, home.index);
  app.use(r);
  app.use(authRoutes(deps));
  app.use(smsRoutes(deps));
  app.use(phoneAndSmsRoutes(deps));
  app.use(attendanceRoutes(deps));
  app.use(contentRoutes(deps));
}
