/**
 * Sign-ins where the utility's own site hands the Opower token to its usage page in an inline
 * script: Puget Sound Energy and Duquesne Light. Steps, paths, fields and the script patterns are
 * those the public Opower client uses (tronikos/opower `pse.py`, `duquesnelight.py`), written
 * here from those facts.
 *
 * PSE: `GET https://www.pse.com/en/login` (its `__RequestVerificationToken` hidden field) →
 * `POST /api/pseauthentication/AsyncSignIn` (the token, `Username`, `Password`, `RememberMe` and
 * the page's message fields) → `GET /api/AccountSelector/GetContractAccountJson` (empty when the
 * sign-in failed) → `GET /en/account-and-billing/my-usage/view-my-usage`, whose inline script
 * sets `var accessToken = "…"`.
 *
 * Duquesne Light: `POST https://auth.duquesnelight.com/oauth/authorize/login` (form
 * `grant_type=password`, `remember_username`, `username`, `password`; 400 = refused, the body
 * says why) → `GET https://www.duquesnelight.com/energy-money-savings/my-electric-use`, whose
 * inline script holds `"OPowerToken": "…"`.
 */
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginContext, LoginResult, LoginStrategy } from '../utilities.ts';
import { loadHtml } from './html.ts';
import { hostOf, looseObject, signinStep, stepWhere } from './steps.ts';

const PAGE = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

/** The first match of `pattern` (group `token`) in a page's inline scripts (`<script>` without `src`). */
export async function inlineScriptToken(html: string, pattern: RegExp): Promise<string | undefined> {
  const $ = await loadHtml(html);
  for (const script of $('script:not([src])').toArray()) {
    const token = pattern.exec($(script).text())?.groups?.token;
    if (token !== undefined && token !== '') return token;
  }
  return undefined;
}

function bearer(context: LoginContext, step: string, token: string | undefined): LoginResult {
  if (token === undefined) throw new AuthError(`${stepWhere(context, step)}: signed in, but the page carries no Opower token (the usage page may have changed)`);
  return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
}

/** Puget Sound Energy. */
export const pseSignin: LoginStrategy = {
  kind: 'pse-page-token',
  async login(context): Promise<LoginResult> {
    const site = hostOf(context, context.utility.loginBaseUrl ?? '');
    const page = await signinStep(context, { name: 'login page', url: `${site}/en/login`, headers: { accept: PAGE } });
    const verification = (await loadHtml(page.text))('input[name="__RequestVerificationToken"]').attr('value');
    if (verification === undefined || verification === '') throw new AuthError(`${stepWhere(context, 'login page')}: no __RequestVerificationToken on the page (the sign-in page may have changed)`);
    const posted = await signinStep(context, {
      name: 'password',
      url: `${site}/api/pseauthentication/AsyncSignIn`,
      form: { __RequestVerificationToken: verification, GenericMessage: 'Incorrect username or password', LockedMessage: 'Account is locked', ReturnUrl: '', OtherPageUrl: 'False', Username: context.username, Password: context.password, RememberMe: 'true' },
      headers: { accept: 'application/json, text/plain, */*', referer: `${site}/en/login` },
    });
    // What AsyncSignIn answers is not in the client (it reads the account list next); a JSON
    // `success: false` with a message, when it comes, is quoted.
    const said = looseObject(posted.text);
    if (said.success === false) throw new AuthError(`sign-in to ${context.utility.name} (${context.utility.id}) was refused at the password step${typeof said.message === 'string' ? `: "${excerpt(said.message, 120)}"` : ''}; check OPOWER_USERNAME and OPOWER_PASSWORD`);
    const accounts = await signinStep(context, { name: 'account list', url: `${site}/api/AccountSelector/GetContractAccountJson`, headers: { accept: 'application/json' } });
    if (accounts.text.trim() === '') throw new AuthError(`sign-in to ${context.utility.name} (${context.utility.id}) was refused at the password step (no accounts after signing in); check OPOWER_USERNAME and OPOWER_PASSWORD`);
    const usage = await signinStep(context, { name: 'usage page', url: `${site}/en/account-and-billing/my-usage/view-my-usage`, headers: { accept: PAGE } });
    return bearer(context, 'usage page', await inlineScriptToken(usage.text, /var accessToken\s*=\s*["'](?<token>[^"']+)["']/));
  },
};

/** Duquesne Light. */
export const duquesneSignin: LoginStrategy = {
  kind: 'dqe-page-token',
  async login(context): Promise<LoginResult> {
    const auth = hostOf(context, context.utility.hosts?.auth ?? '');
    const site = hostOf(context, context.utility.loginBaseUrl ?? '');
    const posted = await signinStep(context, { name: 'password', url: `${auth}/oauth/authorize/login`, form: { grant_type: 'password', remember_username: 'true', username: context.username, password: context.password }, headers: { accept: PAGE }, accept: [400] });
    if (posted.status === 400) throw new AuthError(`sign-in to ${context.utility.name} (${context.utility.id}) was refused at the password step: "${excerpt(posted.text, 160)}"; check OPOWER_USERNAME and OPOWER_PASSWORD`);
    const usage = await signinStep(context, { name: 'usage page', url: `${site}/energy-money-savings/my-electric-use`, headers: { accept: PAGE } });
    return bearer(context, 'usage page', await inlineScriptToken(usage.text, /"OPowerToken":\s*"(?<token>[^"]+)"/));
  },
};
