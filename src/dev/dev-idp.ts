/**
 * The development Taipei Card identity provider (oidc-provider), mounted at /dev-idp when no real issuer is
 * configured and the app is not in production. It knows ONE demo identity (the README's demo accounts) and has its own zh-TW
 * sign-in page asking 手機號碼/電子郵件 and 密碼 (our EJS view: no inline script or style, unlike the defaults).
 */
import { createHash, generateKeyPairSync, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import Provider from 'oidc-provider';
import type { AppDeps } from '../deps.js';
import {
  DEV_CLIENT_ID,
  DEV_CLIENT_SECRET,
  DEV_IDP_LOGINS,
  DEV_IDP_NAME,
  DEV_IDP_PASSWORD,
  DEV_IDP_PATH,
  DEV_IDP_SUBJECT,
  devIssuer,
} from '../domain/accounts/taipei-card.js';

// One signing key per process (a restart invalidates nothing that matters: codes live minutes).
let signingKey: Record<string, unknown> | undefined;
function devSigningKey(): Record<string, unknown> {
  signingKey ??= {
    ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }) as Record<
      string,
      unknown
    >),
    kid: 'dev-idp-1',
    use: 'sig',
    alg: 'RS256',
  };
  return signingKey;
}

const sameText = (a: string, b: string) => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

/** The demo identity's subject for these credentials, or undefined. */
export function devIdpAuthenticate(login: string, password: string): string | undefined {
  const who = login.normalize('NFKC').trim().toLowerCase();
  const known = DEV_IDP_LOGINS.some((l) => l === who);
  const ok = sameText(password, DEV_IDP_PASSWORD);
  return known && ok ? DEV_IDP_SUBJECT : undefined;
}

function errorPage(res: Response, status: number, message: string) {
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .render('sessions/dev-idp-error', { title: '臺北卡登入', message });
}

/** Build the provider and its interaction pages; mount the returned router at the site root (before sessions). */
export function devIdentityProvider(deps: AppDeps): Router {
  const issuer = devIssuer(deps.config);
  const redirectUri = `${deps.config.publicUrl}/auth/taipei-card/callback`;
  const cookieKey = createHash('sha256').update(`dev-idp:${deps.config.sessionSecret}`).digest('base64url');
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        client_secret: DEV_CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [devSigningKey()] },
    cookies: { keys: [cookieKey] },
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'profile'],
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${DEV_IDP_PATH}/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx: unknown, sub: string) {
      if (sub !== DEV_IDP_SUBJECT) return undefined;
      return { accountId: sub, claims: async () => ({ sub, name: DEV_IDP_NAME }) };
    },
    // The portal is this provider's only (first-party) client: no consent screen.
    async loadExistingGrant(ctx: {
      oidc: {
        client: { clientId: string };
        session: { accountId?: string; grantIdFor(id: string, v?: string): string | undefined };
        result?: { consent?: { grantId?: string } };
        provider: {
          Grant: {
            new (o: object): { addOIDCScope(s: string): void; save(): Promise<string> };
            find(id: string): Promise<unknown>;
          };
        };
      };
    }) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId ?? oidc.session.grantIdFor(oidc.client.clientId);
      if (grantId) return oidc.provider.Grant.find(grantId);
      if (!oidc.session.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope('openid profile');
      const id = await grant.save();
      oidc.session.grantIdFor(oidc.client.clientId, id);
      return grant;
    },
    async renderError(ctx: { type: string; body: string; status: number }, out: { error?: string }) {
      ctx.type = 'html';
      const safe = String(out.error ?? 'error').replace(/[^a-z_]/gi, '');
      ctx.body = `<!DOCTYPE html><html lang="zh-Hant-TW"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>臺北卡登入</title><link rel="stylesheet" href="/public/css/site.css"></head><body><main id="main"><section class="panel"><h1>臺北卡登入未完成</h1><p>登入要求無效或已逾時（${safe}），請回到入口網重新操作。</p><p><a class="button" href="/login">回登入頁</a></p></section></main></body></html>`;
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => deps.logger.error({ err }, 'dev idp server error'));

  const r = Router();
  const form = express.urlencoded({ extended: false, limit: '10kb', parameterLimit: 20 });
  const wrap =
    (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) =>
      fn(req, res).catch((err: unknown) => {
        const name = (err as { name?: string })?.name;
        if (name === 'SessionNotFound' || name === 'InvalidRequest')
          return errorPage(res, 400, '登入要求已逾時，請回到入口網重新操作。');
        next(err);
      });

  const details = async (req: Request, res: Response) => {
    const d = await provider.interactionDetails(req, res);
    if (d.uid !== req.params.uid) throw Object.assign(new Error('interaction mismatch'), { name: 'SessionNotFound' });
    return d as { uid: string; prompt: { name: string } };
  };

  r.get(
    `${DEV_IDP_PATH}/interaction/:uid`,
    wrap(async (req, res) => {
      const d = await details(req, res);
      res.set('Cache-Control', 'no-store');
      if (d.prompt.name !== 'login') {
        // Consent is implied for the portal (see loadExistingGrant): finish without asking.
        return provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
      }
      res.render('sessions/dev-idp-login', { title: '臺北卡登入', uid: d.uid, login: '', error: undefined });
    }),
  );
  r.post(
    `${DEV_IDP_PATH}/interaction/:uid/login`,
    form,
    wrap(async (req, res) => {
      const d = await details(req, res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const login = typeof body.login === 'string' ? body.login.slice(0, 100) : '';
      const password = typeof body.password === 'string' ? body.password.slice(0, 200) : '';
      const sub = devIdpAuthenticate(login, password);
      if (!sub) {
        res.status(422).set('Cache-Control', 'no-store');
        return res.render('sessions/dev-idp-login', {
          title: '臺北卡登入',
          uid: d.uid,
          login,
          error: '手機號碼/電子郵件或密碼錯誤',
        });
      }
      await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
    }),
  );
  r.post(
    `${DEV_IDP_PATH}/interaction/:uid/abort`,
    form,
    wrap(async (req, res) => {
      await details(req, res);
      await provider.interactionFinished(
        req,
        res,
        { error: 'access_denied', error_description: 'the user cancelled' },
        { mergeWithLastSubmission: false },
      );
    }),
  );
  r.use(DEV_IDP_PATH, provider.callback() as express.RequestHandler);
  return r;
}
