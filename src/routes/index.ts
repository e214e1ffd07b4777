/**
 * The URL map. Machine APIs (bearer tokens, JSON) are mounted before the session and CSRF middleware;
 * pages after. Each area's routes live in their own file beside this one.
 */
import { Router, type Express, type RequestHandler } from 'express';
import type { AppDeps } from '../deps.js';
import * as sessions from '../controllers/sessions-controller.js';
import * as home from '../controllers/home-controller.js';
import { requireUser } from '../middleware/auth.js';
import { taipeiCardHandlers } from '../controllers/taipei-card-controller.js';
import { apiRoutes } from './api-routes.js';
import { allow } from './menu.js';
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

/**
 * The pages. Those open to everyone are listed here; every other area is a `signedInRouter` that requires the
 * user once for its paths, and the role of a menu page comes from its entry in the menu table (`allow`).
 */
export function mountPages(app: Express, deps: AppDeps): void {
  const r = Router();
  const card = taipeiCardHandlers(deps);
  r.get('/login', sessions.newSession);
  r.post('/login', sessions.createSession);
  r.get('/login/captcha', sessions.captchaImage);
  r.post('/logout', sessions.destroy);
  r.get('/password-help', home.passwordHelp);
  r.post('/auth/taipei-card', card.start);
  r.get('/auth/taipei-card/callback', card.callback);
  // (home is one page at '/', which no area prefix can cover without covering every path)
  r.get('/', requireUser, allow('home'), home.index);
  app.use(r);
  app.use(authRoutes(deps));
  app.use(smsRoutes(deps));
  app.use(phoneAndSmsRoutes(deps));
  app.use(attendanceRoutes(deps));
  app.use(contentRoutes(deps));
}
