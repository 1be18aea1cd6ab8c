/**
 * National Grid's sign-in (its four Opower regions): Azure AD B2C with OpenID Connect and PKCE,
 * then the access token as the Opower bearer. The endpoints, policy, client id, redirect and
 * scopes are those the public Opower client uses (tronikos/opower `nationalgrid.py`,
 * `oidchelper.py`), written here from those facts:
 *
 * 1. `GET {login}/{tenant}/{policy}/v2.0/.well-known/openid-configuration` → the
 *    `authorization_endpoint`, `issuer` and `token_endpoint`.
 * 2. `GET authorization_endpoint?client_id&response_type=code&redirect_uri&scope&code_challenge…`
 *    → the sign-in page with its SETTINGS (a remembered session may redirect with a code at once).
 * 3. `POST {issuer base}/{policy}/SelfAsserted` with `tx`, `p`, `request_type=RESPONSE`,
 *    `signInName`, `password` and the CSRF header.
 * 4. `GET {issuer base}/{policy}/api/CombinedSigninAndSignup/confirmed` → a redirect to the
 *    redirect URI with `code` (or `error`).
 * 5. `POST token_endpoint` (authorization_code + the PKCE verifier) → `access_token`.
 */
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginResult, LoginStrategy } from '../utilities.ts';
import { authorizationCode, b2cSettings, pkcePair, tokenRequest } from './b2c.ts';
import { hostOf, looseObject, signinStep, stepObject, stepWhere } from './steps.ts';

const LOGIN = 'https://login.nationalgrid.com';
const TENANT = '0e1366c5-731c-42b3-90d3-508039d9e70f';
const POLICY = 'B2C_1A_UWP_NationalGrid_convert_merge_signin';
const CLIENT_ID = '36488660-e86a-4a0d-8316-3df49af8d06d';
const REDIRECT_URI = 'https://myaccount.nationalgrid.com/auth-landing';

/** National Grid's sign-in. */
export const nationalGridSignin: LoginStrategy = {
  kind: 'nationalgrid-b2c',
  async login(context): Promise<LoginResult> {
    const { utility } = context;
    const who = `sign-in to ${utility.name} (${utility.id})`;
    const login = hostOf(context, LOGIN);
    const config = stepObject(context, 'configuration', await signinStep(context, { name: 'configuration', url: `${login}/${TENANT}/${POLICY}/v2.0/.well-known/openid-configuration`, headers: { accept: 'application/json' } }));
    const endpoint = (key: string): string => {
      const value = config[key];
      if (typeof value !== 'string' || !/^https?:\/\//.test(value)) throw new AuthError(`${stepWhere(context, 'configuration')}: the OpenID configuration has no ${key}`);
      return value;
    };
    const pkce = pkcePair();
    const authorize = new URL(endpoint('authorization_endpoint'));
    for (const [k, v] of Object.entries({ client_id: CLIENT_ID, response_type: 'code', redirect_uri: REDIRECT_URI, scope: 'openid profile offline_access', code_challenge: pkce.challenge, code_challenge_method: 'S256' })) authorize.searchParams.set(k, v);
    const page = await signinStep(context, { name: 'sign-in page', url: authorize.href, redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml' } });
    let code: string;
    if (page.location?.startsWith(REDIRECT_URI)) {
      code = authorizationCode(context, 'sign-in page', page.location);
    } else {
      const settings = b2cSettings(context, 'sign-in page', page.text);
      // The issuer is `{login}/{tenant}/v2.0/`: its first two path parts lead the policy's URLs.
      const base = endpoint('issuer').replace(/\/+$/, '').split('/').slice(0, -1).join('/');
      const posted = await signinStep(context, {
        name: 'password',
        url: `${base}/${POLICY}/SelfAsserted?${new URLSearchParams({ tx: settings.transId, p: POLICY }).toString()}`,
        form: { tx: settings.transId, p: POLICY, request_type: 'RESPONSE', signInName: context.username, password: context.password },
        headers: { 'x-csrf-token': settings.csrf, 'x-requested-with': 'XMLHttpRequest' },
        accept: [400, 401, 403],
      });
      // B2C says no with HTTP 200 and `"status": "400"` (and a message), or with an HTTP error.
      const said = looseObject(posted.text);
      if (posted.status !== 200 || (said.status !== undefined && String(said.status) !== '200')) {
        throw new AuthError(`${who} was refused at the password step${typeof said.message === 'string' ? `: "${excerpt(said.message, 120)}"` : ` (HTTP ${posted.status})`}; check OPOWER_USERNAME and OPOWER_PASSWORD`);
      }
      const confirmed = await signinStep(context, {
        name: 'confirm',
        url: `${base}/${POLICY}/api/CombinedSigninAndSignup/confirmed?${new URLSearchParams({ rememberMe: 'false', csrf_token: settings.csrf, tx: settings.transId, p: POLICY }).toString()}`,
        redirect: 'manual',
        accept: [403],
      });
      if (confirmed.status === 403) throw new AuthError(`${who} was refused at the password step (HTTP 403 when confirming); check OPOWER_USERNAME and OPOWER_PASSWORD`);
      if (confirmed.location === undefined || !confirmed.location.startsWith(REDIRECT_URI)) {
        throw new AuthError(`${who}, step "confirm": the identity provider asked for another step instead of returning to National Grid (a one-time code or new terms?) — sign in once at nationalgrid.com to finish it`);
      }
      code = authorizationCode(context, 'confirm', confirmed.location);
    }
    const tokens = await tokenRequest(context, 'token', endpoint('token_endpoint'), { client_id: CLIENT_ID, grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce.verifier, scope: `${CLIENT_ID} openid profile offline_access` }, (error) => new AuthError(`${who}, step "token": the authorization code was refused (${excerpt(error, 80)})`));
    const token = tokens.access_token;
    if (typeof token !== 'string' || token === '') throw new AuthError(`${who}, step "token": the answer has no access_token`);
    const secrets = [token, ...(typeof tokens.refresh_token === 'string' ? [tokens.refresh_token] : []), ...(typeof tokens.id_token === 'string' ? [tokens.id_token] : [])];
    return { headers: { authorization: `Bearer ${token}` }, secrets };
  },
};
