/**
 * The ConEd family's sign-in (Consolidated Edison, Orange & Rockland): the utility's own login
 * API, a TOTP second factor when the account has one, then an Opower bearer token. The steps and
 * field names are those of the public Opower client (tronikos/opower `coned.py`), written here
 * from those facts:
 *
 * 1. `POST {site}/sitecore/api/ssc/ConEdWeb-Foundation-Login-Areas-LoginAPI/User/0/Login` with
 *    JSON `{LoginEmail, LoginPassword, LoginRememberMe: false, ReturnUrl, OpenIdRelayState: ""}`;
 *    the answer says `login` (false: wrong credentials), and either `authRedirectUrl` (no second
 *    factor needed: a remembered device, or an account without MFA) or `newDevice` with `noMfa`.
 * 2. When a code is needed: `POST …/VerifyFactor` `{MFACode, ReturnUrl, OpenIdRelayState}` →
 *    `{code, authRedirectUrl}` (`code` false: the code was refused). The code comes from
 *    `OPOWER_TOTP_SECRET` (RFC 6238, totp.ts), so scheduled runs need nobody at a terminal; the
 *    `CE_DEVICE_ID` cookie the site sets lets later sign-ins in the same session skip it.
 * 3. `GET authRedirectUrl` (redirects followed): the site's session cookies.
 * 4. `GET {site}/sitecore/api/ssc/ConEd-Cms-Services-Controllers-Opower/OpowerService/0/GetOPowerToken`
 *    → a JSON string, sent to the Opower API as `Authorization: Bearer …`.
 *
 * Every failure names the utility and the step; no code, token or cookie is ever in a message.
 */
import { AuthError } from '../../../errors.ts';
import { isTransientStatus, transientAnswer } from '../../../http.ts';
import type { LoginContext, LoginResult, LoginStrategy } from '../utilities.ts';
import { signinStep, stepJson, stepObject, type StepAnswer } from './steps.ts';
import { base32Decode, totp } from './totp.ts';

const LOGIN_API = '/sitecore/api/ssc/ConEdWeb-Foundation-Login-Areas-LoginAPI/User/0';
const TOKEN_PATH = '/sitecore/api/ssc/ConEd-Cms-Services-Controllers-Opower/OpowerService/0/GetOPowerToken';
const RETURN_URL = '/en/accounts-billing/my-account/energy-use';

/** POST (with `body`) or GET one step of the site's JSON API (see steps.ts for what fails how). */
function send(context: LoginContext, site: string, name: string, path: string, body?: unknown): Promise<StepAnswer> {
  return signinStep(context, { name, url: `${site}${path}`, json: body, headers: { accept: 'application/json', referer: `${site}/` } });
}

/** The ConEd / Orange & Rockland sign-in. */
export const conedSignin: LoginStrategy = {
  kind: 'coned-totp',
  async login(context): Promise<LoginResult> {
    const { utility } = context;
    const site = (context.loginBaseUrl ?? '').replace(/\/$/, '');
    if (site === '') throw new AuthError(`sign-in to ${utility.name}: no sign-in site configured`);
    const login = stepObject(context, 'password', await send(context, site, 'password', `${LOGIN_API}/Login`, {
      LoginEmail: context.username,
      LoginPassword: context.password,
      LoginRememberMe: false,
      ReturnUrl: RETURN_URL,
      OpenIdRelayState: '',
    })) as { login?: boolean; authRedirectUrl?: string; newDevice?: boolean; noMfa?: boolean };
    const who = `sign-in to ${utility.name} (${utility.id})`;
    if (login.login !== true) throw new AuthError(`${who} was refused at the password step: check OPOWER_USERNAME and OPOWER_PASSWORD`);
    let redirect = login.authRedirectUrl;
    if (redirect === undefined) {
      if (login.newDevice !== true || login.noMfa === true) throw new AuthError(`${who}: the site answered neither a redirect nor a second-factor request (the sign-in flow may have changed)`);
      if (context.totpSecret === undefined) {
        throw new AuthError(`${who}: the account asks for a one-time code (MFA) and OPOWER_TOTP_SECRET is not set — set it to the authenticator secret (the base32 text shown beside the QR code when the authenticator app was added)`);
      }
      const code = totp(base32Decode(context.totpSecret), Math.floor(Date.now() / 1000));
      const verified = stepObject(context, 'one-time code', await send(context, site, 'one-time code', `${LOGIN_API}/VerifyFactor`, { MFACode: code, ReturnUrl: RETURN_URL, OpenIdRelayState: '' })) as { code?: boolean; authRedirectUrl?: string };
      if (verified.code !== true || verified.authRedirectUrl === undefined) {
        throw new AuthError(`${who} refused the one-time code: is OPOWER_TOTP_SECRET the secret of this account's authenticator, and the machine's clock right?`);
      }
      redirect = verified.authRedirectUrl;
    }
    const landing = await context.fetch(new URL(redirect, site).href, { redirect: 'follow', signal: context.signal });
    await landing.arrayBuffer();
    if (isTransientStatus(landing.status)) throw transientAnswer(`${who}, step "redirect" failed: HTTP ${landing.status}`, landing);
    if (!landing.ok) throw new AuthError(`${who}, step "redirect" failed: HTTP ${landing.status}`, landing.status);
    const token = stepJson(context, 'Opower token', await send(context, site, 'Opower token', TOKEN_PATH));
    if (typeof token !== 'string' || token === '') throw new AuthError(`${who}, step "Opower token": expected a token (a JSON string), got ${typeof token}`);
    return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
  },
};
