import type { NextFunction, Request, Response } from 'express';
import { helpers } from '../views-helpers.js';
import { csrfToken } from './security.js';
import { depsOf } from '../deps.js';
import { pendingReviewCount } from '../domain/subscriptions/queries.js';
import { menusFor, NO_MENUS } from '../routes/menu.js';

/** Defaults, so that even an error page rendered before the session exists has every name it uses. */
export function baseLocals(req: Request, res: Response, next: NextFunction): void {
  res.locals.h = helpers;
  res.locals.currentPath = req.path;
  res.locals.user = undefined;
  res.locals.csrfField = () => '';
  res.locals.flash = undefined;
  res.locals.reviewCount = 0;
  res.locals.menus = NO_MENUS;
  next();
}

/**
 * What signed-in pages add to baseLocals: the user, the CSRF token (created lazily, so pages without a form
 * create no session), a flash message from the last redirect, and the staff's count of requests to review.
 */
export function viewLocals(req: Request, res: Response, next: NextFunction): void {
  // (h, currentPath, and the defaults of the rest come from baseLocals.)
  res.locals.user = req.user;
  // The user's entries of the menu table (src/routes/menu.ts), for the partials to render.
  if (req.user) res.locals.menus = menusFor(req.user.role, req.path);
  res.locals.csrfField = () => csrfInput(csrfToken(req));
  if (req.session?.flash) {
    res.locals.flash = req.session.flash;
    delete req.session.flash;
  }
  // Staff see how many requests wait for them (審核) in the menu, GET pages only: read with the session and the
  // user in one statement (session-store.ts), or — for a user not loaded that way — one indexed count.
  if (req.method === 'GET' && req.user && req.user.role !== 'parent') {
    if (req.reviewCount !== undefined) {
      res.locals.reviewCount = req.reviewCount;
      return next();
    }
    pendingReviewCount(depsOf(req).db.knex, req.user).then((n) => {
      res.locals.reviewCount = n;
      next();
    }, next);
    return;
  }
  next();
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The hidden field every POST form carries (`<%- csrfField() %>`), the token escaped. */
export function csrfInput(token: string): string {
  return `<input type="hidden" name="_csrf" value="${token.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)}">`;
}

export function setFlash(req: Request, kind: 'success' | 'error', text: string): void {
  req.session.flash = { kind, text };
}
