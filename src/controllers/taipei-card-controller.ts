/**
 * 臺北卡登入 through OpenID Connect (openid-client): authorization code + PKCE + state + nonce, all kept in
 * this browser's session and removed at the first callback (single use, bound to the browser).
 */
import type { Request, Response } from 'express';
import * as client from 'openid-client';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';
import { depsOf } from '../deps.js';
import { cardSignInFailed, signInWithCard } from '../domain/accounts/sign-in.js';
import { oidcSettings, type OidcSettings } from '../domain/accounts/taipei-card.js';
import { actorOf } from '../middleware/actor.js';
import { HttpError, NotFoundError } from '../http-errors.js';
import { safeNextPath } from '../middleware/auth.js';
import { setFlash } from '../middleware/locals.js';
import { csrfField } from '../validation.js';
import { establishSession } from './sign-in.js';

/** How long a started sign-in may take at the identity provider. */
export const OIDC_FLOW_TTL_MS = 10 * 60 * 1000;

const StartForm = z.strictObject({ ...csrfField, next: z.string().max(2000).optional() });

export interface TaipeiCardHandlers {
  start(req: Request, res: Response): Promise<void>;
  callback(req: Request, res: Response): Promise<void>;
}

const FAILED = '臺北卡登入未完成或已逾時，請回到登入頁重新操作。';

export function taipeiCardHandlers(deps: AppDeps): TaipeiCardHandlers {
  const settings: OidcSettings | undefined = oidcSettings(deps.config);
  // Discovery happens at first use (the dev provider is served by this very app), and again after a failure.
  let configuration: Promise<client.Configuration> | undefined;
  const discover = (s: OidcSettings): Promise<client.Configuration> => {
    configuration ??= client
      .discovery(
        new URL(s.issuer),
        s.clientId,
        { redirect_uris: [s.redirectUri], response_types: ['code'] },
        client.ClientSecretPost(s.clientSecret),
        s.allowInsecure ? { execute: [client.allowInsecureRequests], timeout: 10 } : { timeout: 10 },
      )
      .catch((err: unknown) => {
        configuration = undefined;
        throw err;
      });
    return configuration;
  };

  /** POST /auth/taipei-card — from the login page (sign in) or 我的帳號 (link to the signed-in parent). */
  async function start(req: Request, res: Response): Promise<void> {
    if (!settings) throw new NotFoundError();
    if (req.user && req.user.role !== 'parent') throw new NotFoundError();
    const form = StartForm.safeParse(req.body);
    const next = safeNextPath(form.success ? form.data.next : undefined);
    let config: client.Configuration;
    try {
      config = await discover(settings);
    } catch (err) {
      req.log.warn({ err: (err as Error).message }, 'taipei card discovery failed');
      throw new HttpError(503, '臺北卡登入服務暫時無法使用，請稍後再試，或改用學號與密碼登入。');
    }
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    req.session.oidc = { state, nonce, codeVerifier, startedAt: depsOf(req).clock.now().getTime(), next };
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: settings.redirectUri,
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    await new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
    res.set('Cache-Control', 'no-store').redirect(303, url.href);
  }

  /** GET /auth/taipei-card/callback */
  async function callback(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    if (!settings) throw new NotFoundError();
    const { knex } = deps.db;
    // Single use: whatever happens next, this browser's pending sign-in is gone.
    const pending = req.session.oidc;
    delete req.session.oidc;
    const now = deps.clock.now();
    if (!pending || now.getTime() - pending.startedAt > OIDC_FLOW_TTL_MS) {
      req.log.warn(
        { event: 'taipei_card.callback_refused', reason: pending ? 'expired' : 'no pending sign-in' },
        'callback refused',
      );
      await cardSignInFailed(knex, actorOf(req), pending ? 'expired' : 'no_state');
      throw new HttpError(400, FAILED);
    }
    let claims: client.IDToken | undefined;
    let name: string | undefined;
    try {
      const config = await discover(settings);
      const currentUrl = new URL(req.originalUrl, deps.config.publicUrl);
      const tokens = await client.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
      name = typeof claims?.name === 'string' ? claims.name : undefined;
      if (claims && name === undefined) {
        // Providers that keep profile claims out of the ID token answer them at userinfo.
        const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub).catch(() => undefined);
        name = typeof info?.name === 'string' ? info.name : undefined;
      }
    } catch (err) {
      req.log.warn({ event: 'taipei_card.callback_refused', err: (err as Error).message }, 'callback refused');
      await cardSignInFailed(knex, actorOf(req), 'callback_invalid');
      throw new HttpError(400, FAILED);
    }
    if (!claims?.sub || !claims.iss) throw new HttpError(400, FAILED);
    const outcome = await signInWithCard(
      knex,
      actorOf(req),
      // A signed-in parent who asked to link (from 我的帳號).
      {
        issuer: claims.iss,
        subject: claims.sub,
        name,
        linkTo: req.user?.role === 'parent' ? req.user.accountId : undefined,
      },
      now,
      req.log,
    );
    if (outcome.kind === 'linked') {
      setFlash(req, 'success', '已連結臺北卡，下次可直接使用臺北卡登入。');
      return res.redirect(303, '/account');
    }
    if (outcome.kind === 'first_seen') {
      // Seen for the first time: the parent signs in once with a student-number account, which links it.
      req.session.pendingIdentityId = outcome.identityId;
      const next = pending.next && pending.next !== '/' ? `&next=${encodeURIComponent(pending.next)}` : '';
      return res.redirect(303, `/login?role=parent${next}`);
    }
    await establishSession(req, { ...outcome, now: now.getTime() });
    res.redirect(303, safeNextPath(pending.next));
  }

  return { start, callback };
}
