import { randomUUID } from 'node:crypto';
import path from 'node:path';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import { PROJECT_ROOT } from './paths.js';
import type { AppDeps } from './deps.js';
import { loadUser } from './middleware/auth.js';
import { errorHandler, notFound } from './middleware/errors.js';
import { baseLocals, viewLocals } from './middleware/locals.js';
import { createSessionMiddleware } from './middleware/session.js';
import { csrfProtection, sameOriginOnly, securityHeaders } from './middleware/security.js';
import { createLoginThrottle } from './middleware/throttle.js';
import { mountApi, mountPages } from './routes/index.js';

export interface App extends Express {
  /** Close what the app opened itself (the session store's pool). The database belongs to the caller. */
  shutdown(): Promise<void>;
}

/** Build the Express app. No listen, no process.env: everything comes in through `deps`. */
export function createApp(deps: AppDeps): App {
  const app = express() as App;
  app.locals.deps = deps;
  const loginThrottle = createLoginThrottle(deps);
  app.locals.loginThrottle = loginThrottle;
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', path.join(PROJECT_ROOT, 'views'));
  // Includes name their file from the views folder (`include('/partials/head')`): EJS resolves those under `root`
  // directly, where a relative include was looked up on disk (a stat) at every render, cached or not.
  app.set('view options', { root: path.join(PROJECT_ROOT, 'views') });
  app.set('query parser', 'extended');
  if (deps.config.isProduction) app.set('view cache', true);

  app.use(baseLocals);
  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w-]{8,64}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url?.startsWith('/public/') === true },
      serializers: {
        // Only what is needed: no headers (cookies, authorization), no query strings (tokens, next=…).
        req: (r: { id: string; method: string; url: string }) => ({
          id: r.id,
          method: r.method,
          url: r.url.split('?')[0],
        }),
        res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
      },
    }),
  );
  app.use(securityHeaders(deps, deps.config.oidc.issuer ? [new URL(deps.config.oidc.issuer).origin] : []));
  app.use(
    '/public',
    express.static(path.join(PROJECT_ROOT, 'public'), { maxAge: deps.config.isProduction ? '1d' : 0, index: false }),
  );

  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    // A short deadline of its own (DB_READY_TIMEOUT_MS), pool wait included: a frozen database is "not ready"
    // within a second, so the load balancer stops sending traffic here quickly.
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.db.knex.raw('select 1'),
        new Promise((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('readiness deadline')), deps.config.dbReadyTimeoutMs);
        }),
      ]);
      res.json({ status: 'ok', database: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });

  // Machine-to-machine JSON APIs (card readers, SMS delivery reports): bearer tokens, no cookies, no CSRF.
  mountApi(app, deps);

  app.use(express.urlencoded({ extended: false, limit: '100kb', parameterLimit: 1000 }));
  const sessions = createSessionMiddleware(deps);
  app.use(sessions.middleware);
  app.use(sameOriginOnly(deps));
  app.use(csrfProtection);
  app.use(loadUser);
  app.use(viewLocals);

  mountPages(app, deps);

  app.use(notFound);
  app.use(errorHandler);

  app.shutdown = async () => {
    await Promise.all([sessions.close(), loginThrottle.close()]);
  };
  return app;
}
