import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../http-errors.js';

/** helmet with a CSP that allows no inline script, no framing, and forms only to ourselves (and the IdP). */
export function securityHeaders(deps: AppDeps, formTargets: string[] = []): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'", ...formTargets],
        ...(deps.config.isProduction ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: deps.config.isProduction ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Fetch-Metadata rule: refuse unsafe requests a browser says come from another site; where the browser
 * sends no Sec-Fetch-Site, fall back to comparing Origin with our own.
 */
export function sameOriginOnly(deps: AppDeps): RequestHandler {
  const publicOrigin = new URL(deps.config.publicUrl).origin;
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!UNSAFE.has(req.method)) return next();
    const site = req.get('sec-fetch-site');
    if (site === 'cross-site') return refuse(req, next, 'cross-site request');
    if (site === undefined) {
      const origin = req.get('origin');
      if (origin && origin !== 'null') {
        const own = `${req.protocol}://${req.get('host') ?? ''}`;
        if (origin !== publicOrigin && origin !== own) return refuse(req, next, 'foreign origin');
      } else if (origin === 'null') {
        return refuse(req, next, 'opaque origin');
      }
    }
    next();
  };
}

function refuse(req: Request, next: NextFunction, reason: string) {
  req.log?.warn({ reason }, 'csrf refusal');
  next(new HttpError(403, '此要求來源不明，已被拒絕。請回到頁面重新操作。'));
}

const csrf = csrfSync({
  getTokenFromRequest: (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    const t = body?._csrf;
    return typeof t === 'string' ? t : undefined;
  },
});

/** The synchronizer token: every form carries `_csrf`, checked on every unsafe request. */
export const csrfProtection: RequestHandler = (req, res, next) => {
  csrf.csrfSynchronisedProtection(req, res, (err?: unknown) => {
    if (err) {
      req.log?.warn({ path: req.path }, 'csrf refusal');
      return next(new HttpError(403, '網頁已逾時或表單無效，請重新整理頁面後再試一次。'));
    }
    next();
  });
};

/** The token for the forms of the page being rendered (made on first use). */
export const csrfToken = (req: Request): string => csrf.generateToken(req);
