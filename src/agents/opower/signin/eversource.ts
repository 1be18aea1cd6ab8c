/**
 * Eversource's sign-in: its own login, Okta (authn, then PKCE authorization code), its account
 * API, and the Opower token from its widget data. Steps, paths, fields and ids are those the
 * public Opower client uses (tronikos/opower `eversource.py`), written here from those facts:
 *
 * 1. `GET https://www.eversource.com/security/account/Login` — the page's embedded config holds
 *    `&quot;formToken&quot;:&quot;…&quot;`, sent back as the `__RequestVerificationToken` header.
 * 2. `POST /security/account/MSLogin` JSON `{WebId, Password, RememberID: false, ReturnUrl,
 *    MfaRememberMeData: ""}` → `IsSuccess`, `status` (`SUCCESS`, `MFA_ENROLL`; `MFA_REQUIRED` and
 *    `MFA_CHALLENGE` need a code) and `OktaUsername`; a refusal's reason is in `Errors` (HTML).
 * 3. `POST https://eversource-external.okta.com/api/v1/authn` `{username: OktaUsername, password}`
 *    → `status: SUCCESS` and a `sessionToken`.
 * 4. `GET {issuer}/v1/authorize` with the session token, PKCE S256, `prompt=none`,
 *    `response_mode=okta_post_message` → a page whose script sets `data.code = '…'` (with `\xHH`
 *    escapes).
 * 5. `POST {issuer}/v1/token` (authorization_code + verifier) → `access_token`.
 * 6. `GET https://www.eversource.com/cg/customer/api/account?pageNumber=1&pageSize=5` (bearer) →
 *    `Accounts[0].BillingAccountIdentifier`.
 * 7. `GET /cg/customer/api/accountbilling/getOpowerWidgetData/{account}` (bearer) → `jwtToken`,
 *    the Opower bearer.
 */
import { randomBytes } from 'node:crypto';
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginResult, LoginStrategy } from '../utilities.ts';
import { pkcePair, tokenRequest } from './b2c.ts';
import { hostOf, looseObject, signinStep, stepObject, stepWhere } from './steps.ts';

const WWW = 'https://www.eversource.com';
const OKTA = 'https://eversource-external.okta.com';
const ISSUER_PATH = '/oauth2/ausrjxam6icWYMIj41t7';
const CLIENT_ID = '0oarjx5m8i3r1586a1t7';
const REDIRECT_URI = 'https://www.eversource.com/security/account/Login';

/** `'\x2Dab'` → `-ab`: the `\xHH` escapes of a JavaScript string literal. */
export function unescapeJs(text: string): string {
  return text.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Eversource. */
export const eversourceSignin: LoginStrategy = {
  kind: 'eversource-okta',
  async login(context): Promise<LoginResult> {
    const who = `sign-in to ${context.utility.name} (${context.utility.id})`;
    const www = hostOf(context, context.utility.loginBaseUrl ?? WWW);
    const okta = hostOf(context, context.utility.hosts?.okta ?? OKTA);
    const loginPage = `${www}/security/account/Login`;
    const page = await signinStep(context, { name: 'login page', url: loginPage, headers: { accept: 'text/html' } });
    const formToken = /&quot;formToken&quot;:&quot;([^&]+)&quot;/.exec(page.text)?.[1];
    const ms = await signinStep(context, {
      name: 'password',
      url: `${www}/security/account/MSLogin`,
      json: { WebId: context.username, Password: context.password, RememberID: false, ReturnUrl: '/cg/customer/accountoverview', MfaRememberMeData: '' },
      headers: { accept: 'application/json, text/plain, */*', origin: 'https://www.eversource.com', referer: loginPage, ...(formToken === undefined ? {} : { __requestverificationtoken: formToken }) },
      redirect: 'manual',
    });
    const login = stepObject(context, 'password', ms) as { IsSuccess?: unknown; status?: unknown; OktaUsername?: unknown; Errors?: unknown };
    if (login.IsSuccess !== true) {
      const reason = typeof login.Errors === 'object' && login.Errors !== null ? Object.values(login.Errors).find((v): v is string => typeof v === 'string') : undefined;
      throw new AuthError(`${who} was refused at the password step${reason === undefined ? '' : `: "${excerpt(reason.replace(/<[^>]+>/g, '').trim(), 120)}"`}; check OPOWER_USERNAME and OPOWER_PASSWORD`);
    }
    if (login.status === 'MFA_REQUIRED' || login.status === 'MFA_CHALLENGE') {
      throw new AuthError(`${who}: the account asks for a one-time code (${String(login.status)}), which homeflux cannot answer for Eversource yet — turn off the second factor for this login, or use a Green Button export`);
    }
    if (typeof login.OktaUsername !== 'string' || login.OktaUsername === '') throw new AuthError(`${stepWhere(context, 'password')}: signed in, but no OktaUsername came back (the sign-in may have changed)`);
    const authn = await signinStep(context, { name: 'Okta authn', url: `${okta}/api/v1/authn`, json: { username: login.OktaUsername, password: context.password }, headers: { accept: 'application/json', origin: 'https://www.eversource.com', referer: 'https://www.eversource.com/' }, accept: [401] });
    const session = looseObject(authn.text);
    if (authn.status !== 200 || session.status !== 'SUCCESS' || typeof session.sessionToken !== 'string') {
      throw new AuthError(`${who}, step "Okta authn": ${authn.status === 401 ? 'refused' : `status ${excerpt(String(session.status ?? authn.status), 40)}`} (the password the site accepted was refused by its identity provider, or it asks for another step)`);
    }
    const pkce = pkcePair();
    const authorize = new URL(`${okta}${ISSUER_PATH}/v1/authorize`);
    authorize.search = new URLSearchParams({ client_id: CLIENT_ID, code_challenge: pkce.challenge, code_challenge_method: 'S256', nonce: randomBytes(24).toString('base64url'), prompt: 'none', redirect_uri: REDIRECT_URI, response_mode: 'okta_post_message', response_type: 'code', sessionToken: session.sessionToken, state: randomBytes(24).toString('base64url'), scope: 'openid email' }).toString();
    const authorized = await signinStep(context, { name: 'authorize', url: authorize.href, headers: { accept: 'text/html', referer: 'https://www.eversource.com/' } });
    const code = /data\.code\s*=\s*'([^']+)'/.exec(authorized.text)?.[1];
    if (code === undefined) throw new AuthError(`${stepWhere(context, 'authorize')}: the page holds no authorization code (data.code)`);
    const tokens = await tokenRequest(context, 'token', `${okta}${ISSUER_PATH}/v1/token`, { client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, grant_type: 'authorization_code', code_verifier: pkce.verifier, code: unescapeJs(code) }, (error) => new AuthError(`${stepWhere(context, 'token')}: the authorization code was refused (${excerpt(error, 80)})`));
    const access = tokens.access_token;
    if (typeof access !== 'string' || access === '') throw new AuthError(`${stepWhere(context, 'token')}: the answer has no access_token`);
    const bearer = { authorization: `Bearer ${access}`, accept: 'application/json' };
    const accounts = stepObject(context, 'accounts', await signinStep(context, { name: 'accounts', url: `${www}/cg/customer/api/account?pageNumber=1&pageSize=5`, headers: bearer }));
    const first: unknown = Array.isArray(accounts.Accounts) ? accounts.Accounts[0] : undefined;
    const account = typeof first === 'object' && first !== null ? (first as { BillingAccountIdentifier?: unknown }).BillingAccountIdentifier : undefined;
    if ((typeof account !== 'string' && typeof account !== 'number') || String(account) === '') throw new AuthError(`${stepWhere(context, 'accounts')}: the login has no accounts`);
    const widget = stepObject(context, 'Opower token', await signinStep(context, { name: 'Opower token', url: `${www}/cg/customer/api/accountbilling/getOpowerWidgetData/${encodeURIComponent(String(account))}`, headers: bearer }));
    if (typeof widget.jwtToken !== 'string' || widget.jwtToken === '') throw new AuthError(`${stepWhere(context, 'Opower token')}: the widget data has no jwtToken`);
    return { headers: { authorization: `Bearer ${widget.jwtToken}` }, secrets: [widget.jwtToken, access, session.sessionToken] };
  },
};
