/**
 * The Exelon group's sign-in (Atlantic City Electric, BGE, ComEd, Delmarva, PECO, Pepco): Azure
 * AD B2C as the utilities' mobile apps use it (PKCE, a refresh token), a one-time code sent by
 * e-mail or text, then an Opower token minted from the refresh token. Steps, paths, fields and
 * client ids are those of the public Opower client (tronikos/opower `exelon.py` and the six
 * utility files), written here from those facts:
 *
 * 1. `GET https://{secure}/Pages/Login.aspx?/login` redirects to the B2C `…/authorize` page; its
 *    SETTINGS name the tenant and web policy. The mobile policy `B2C_1A_SignIn_Mobile` replaces
 *    the web one in the tenant URL, and the same authorize path is asked again with the app's
 *    `client_id`, `redirect_uri={app}://auth`, scope `openid offline_access` and the PKCE challenge.
 * 2. `POST {tenant}/SelfAsserted` (`signInName`, `password`) → `{"status":"200"}` or a message.
 * 3. `GET {tenant}/api/SelfAsserted/confirmed` → the MFA page: `SA_FIELDS.AttributeFields` name
 *    the masked e-mail (`displayEmailAddress`) and phone (`displayPhoneNumber`);
 *    `extension_isMFAEnabled` = `False` with an `emailVerificationControl` means e-mail only.
 *    With a choice: POST the choice (`mfaEnabledRadio`), GET confirmed again. Then
 *    `DisplayControlAction/vbeta/{email|text}VerificationControl/SendCode`, the code typed by a
 *    person → `…/VerifyCode`, POST the page, and the last confirmed redirects to
 *    `{app}://auth/?code=…`.
 * 4. `POST {tenant}/oauth2/v2.0/token` (authorization_code + verifier) → access and refresh token.
 * 5. `GET https://{eudapi}/mobile/custom/auth/accounts` (bearer) → the accounts; the active one
 *    (the default profile when several) is the account.
 * 6. `POST {tenant}/oauth2/v2.0/token` with the refresh token, scope
 *    `https://{tenant name}.onmicrosoft.com/opower/opower_connect` and `nonce` = account number →
 *    the Opower bearer token.
 *
 * Scheduled runs cannot type a code: `scripts/opower.ts --login` does steps 1–5 once at a
 * terminal and keeps the refresh token and account in a sealed session file; every run then
 * refreshes it (`grant_type=refresh_token`), re-seals the new one and does step 6.
 * Pepco and Delmarva serve residential Maryland accounts from one portal and the rest from
 * another (the client's `primary_subdomain` / `secondary_subdomain`).
 */
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginContext, LoginResult, LoginStrategy } from '../utilities.ts';
import { authorizationCode, b2cConfirmed, b2cPost, b2cSettings, pkcePair, scriptObject, tokenRequest, type B2cSettings } from './b2c.ts';
import { hostOf, signinStep, stepObject, stepWhere } from './steps.ts';

const MOBILE_POLICY = 'B2C_1A_SignIn_Mobile';

/** What the session file keeps between runs. */
interface ExelonSession {
  refreshToken: string;
  /** The tenant URL tokens are asked from (`https://{host}/{tenant}.onmicrosoft.com/B2C_1A_SignIn_Mobile`). */
  tenantUrl: string;
  account: { accountNumber: string; isResidential: boolean; state: string | undefined };
}

/** The command line to type, for messages. */
export const LOGIN_COMMAND = 'npx tsx scripts/opower.ts --login';

const who = (context: LoginContext): string => `sign-in to ${context.utility.name} (${context.utility.id})`;
const constant = (context: LoginContext, key: string): string => {
  const value = context.utility.signin?.[key];
  if (value === undefined) throw new AuthError(`${who(context)}: the utilities table lacks the sign-in's ${key}`);
  return value;
};

/** The Opower portal of an account: Pepco/Delmarva split residential Maryland from the rest. */
function portalOf(context: LoginContext, account: ExelonSession['account']): { subdomain: string } | undefined {
  const other = context.utility.signin?.secondarySubdomain;
  if (other === undefined) return undefined;
  return { subdomain: account.isResidential && account.state === 'MD' ? context.utility.subdomain : other };
}

/** The account list's active account (the default profile when several are active). */
function pickAccount(context: LoginContext, json: Record<string, unknown>): ExelonSession['account'] {
  const body = json;
  if (body.success !== true || !Array.isArray(body.data)) throw new AuthError(`${stepWhere(context, 'accounts')}: the account list was not given (success is not true)`);
  const isObject = (a: unknown): a is Record<string, unknown> => typeof a === 'object' && a !== null;
  const active = (body.data as unknown[]).filter(isObject).filter((a) => a.status === 'Active');
  const chosen = active.find((a) => a.isDefaultProfile === true) ?? active[0];
  if (chosen === undefined) throw new AuthError(`${stepWhere(context, 'accounts')}: the login has no active account`);
  const premise: unknown = Array.isArray(chosen.PremiseInfo) ? chosen.PremiseInfo[0] : undefined;
  const state = (premise as { mainAddress?: { townDetail?: { stateOrProvince?: unknown } | null } | null } | null | undefined)?.mainAddress?.townDetail?.stateOrProvince;
  return { accountNumber: String(chosen.accountNumber ?? ''), isResidential: chosen.isResidential === true, state: typeof state === 'string' ? state : undefined };
}

/** The Opower token from a refresh token (step 6). */
async function opowerToken(context: LoginContext, session: ExelonSession): Promise<string> {
  const tenant = /\/([^/]+)\.onmicrosoft\.com\//.exec(`${new URL(session.tenantUrl).pathname}/`)?.[1];
  if (tenant === undefined) throw new AuthError(`${stepWhere(context, 'Opower token')}: the kept tenant URL names no *.onmicrosoft.com tenant`);
  const json = await tokenRequest(
    context,
    'Opower token',
    `${session.tenantUrl}/oauth2/v2.0/token`,
    { grant_type: 'refresh_token', response_type: 'token', scope: `https://${tenant}.onmicrosoft.com/opower/opower_connect`, client_id: constant(context, 'clientId'), refresh_token: session.refreshToken, nonce: session.account.accountNumber },
    (error) => expiredSession(context, error),
  );
  if (typeof json.access_token !== 'string' || json.access_token === '') throw new AuthError(`${stepWhere(context, 'Opower token')}: the answer has no access_token`);
  return json.access_token;
}

const expiredSession = (context: LoginContext, error: string): AuthError =>
  new AuthError(`${who(context)}: the kept session can no longer be refreshed (${excerpt(error, 60)}) — run \`${LOGIN_COMMAND}\` again at a terminal`);

/** The MFA choices a page offers, and whether the choice is made already (e-mail only). */
function mfaOptions(saFields: Record<string, unknown>): { email?: string; text?: string; bypass: boolean } {
  const out: { email?: string; text?: string; bypass: boolean } = { bypass: false };
  let phoneOff = false;
  let emailOnly = false;
  for (const field of (saFields.AttributeFields ?? []) as Record<string, unknown>[]) {
    if (field.ID === 'extension_isMFAEnabled' && field.PRE === 'False') phoneOff = true;
    if (field.ID === 'emailVerificationControl') {
      for (const display of (field.DISPLAY_FIELDS ?? []) as Record<string, unknown>[]) {
        if (display.ID === 'displayEmailAddress' && typeof display.PRE === 'string') {
          out.email = display.PRE;
          emailOnly = true;
        }
      }
    }
    if (field.ID === 'displayEmailAddress' && typeof field.PRE === 'string') out.email = field.PRE;
    if (field.ID === 'displayPhoneNumber' && typeof field.PRE === 'string') out.text = field.PRE;
  }
  out.bypass = phoneOff && emailOnly;
  return out;
}

/** Steps 1–5 with a person at the terminal; returns the session to keep. */
async function interactiveLogin(context: LoginContext): Promise<ExelonSession> {
  const clientId = constant(context, 'clientId');
  const app = constant(context, 'mobileId');
  const secure = hostOf(context, context.utility.loginBaseUrl ?? '');
  const first = await signinStep(context, { name: 'login page', url: `${secure}/Pages/Login.aspx?/login`, headers: { accept: 'text/html,application/xhtml+xml' } });
  const landed = new URL(first.url);
  if (!landed.pathname.endsWith('/authorize')) throw new AuthError(`${stepWhere(context, 'login page')}: expected a redirect to the B2C authorize page, landed on ${excerpt(landed.pathname, 80)} (the site is down or has changed)`);
  const web = b2cSettings(context, 'login page', first.text);
  const tenantUrl = `${landed.origin}${web.tenant.replace(web.policy, MOBILE_POLICY)}`;
  const pkce = pkcePair();
  const mobile = new URL(landed.href);
  mobile.search = new URLSearchParams({ p: MOBILE_POLICY, client_id: clientId, nonce: 'defaultNonce', redirect_uri: `${app}://auth`, scope: 'openid offline_access', response_type: 'code', code_challenge: pkce.challenge, code_challenge_method: 'S256', prompt: 'login' }).toString();
  const mobilePage = await signinStep(context, { name: 'app sign-in page', url: mobile.href, headers: { accept: 'text/html,application/xhtml+xml' } });
  // The app's page posts to SelfAsserted whatever its SETTINGS say (the client forces it too).
  let settings: B2cSettings = { ...b2cSettings(context, 'app sign-in page', mobilePage.text), api: 'SelfAsserted' };
  const password = await b2cPost(context, 'password', tenantUrl, settings, '', { request_type: 'RESPONSE', signInName: context.username, password: context.password });
  if (password.status !== '200') throw new AuthError(`${who(context)} was refused at the password step${password.message === '' ? '' : `: "${excerpt(password.message, 120)}"`}; check OPOWER_USERNAME and OPOWER_PASSWORD`);
  const next = async (step: string): Promise<{ html: string; location: string | undefined }> => {
    const answer = await b2cConfirmed(context, step, tenantUrl, settings);
    if (answer.location === undefined) settings = { ...b2cSettings(context, step, answer.text), policy: settings.policy || MOBILE_POLICY };
    return { html: answer.text, location: answer.location };
  };
  let page = await next('after password');
  if (page.location === undefined) {
    const saFields = scriptObject(page.html, 'SA_FIELDS');
    if (saFields === undefined) throw new AuthError(`${stepWhere(context, 'after password')}: neither a one-time code page nor a return to the app (the sign-in may have changed)`);
    const ask = context.ask;
    if (ask === undefined) {
      throw new AuthError(`${who(context)} asks for a one-time code sent by e-mail or text (MFA), which a scheduled run cannot type — run \`${LOGIN_COMMAND}\` once at a terminal (HOMEFLUX_STATE_KEY set): later runs refresh the session it keeps`);
    }
    const options = mfaOptions(saFields);
    let channel: 'Email' | 'Text';
    if (options.bypass || options.text === undefined) channel = 'Email';
    else if (options.email === undefined) channel = 'Text';
    else channel = (await ask(`Send the one-time code by (1) e-mail to ${options.email} or (2) text to ${options.text}? [1/2] `)).trim() === '2' ? 'Text' : 'Email';
    if (channel === 'Email' && options.email === undefined) throw new AuthError(`${stepWhere(context, 'one-time code')}: the page offers no e-mail address to send the code to`);
    if (!options.bypass) {
      const chose = await b2cPost(context, 'choose how the code is sent', tenantUrl, settings, '', { displayEmailAddress: options.email ?? '', displayPhoneNumber: options.text ?? '', mfaEnabledRadio: channel, request_type: 'RESPONSE' });
      if (chose.status !== '200') throw new AuthError(`${stepWhere(context, 'choose how the code is sent')}: refused${chose.message === '' ? '' : ` ("${excerpt(chose.message, 120)}")`}`);
      page = await next('code page');
    }
    const control = channel === 'Text' ? 'textVerificationControl' : 'emailVerificationControl';
    const target: Record<string, string> = channel === 'Text' ? { displayPhoneNumber: options.text! } : { displayEmailAddress: options.email! };
    const sent = await b2cPost(context, 'send the code', tenantUrl, settings, `DisplayControlAction/vbeta/${control}/SendCode`, target);
    if (sent.status !== '200') throw new AuthError(`${stepWhere(context, 'send the code')}: refused${sent.message === '' ? '' : ` ("${excerpt(sent.message, 120)}")`}`);
    const code = (await ask(`Type the code sent to ${channel === 'Text' ? options.text : options.email}: `)).trim();
    const verified = await b2cPost(context, 'one-time code', tenantUrl, settings, `DisplayControlAction/vbeta/${control}/VerifyCode`, { ...target, verificationCode: code });
    if (verified.status !== '200') throw new AuthError(`${who(context)} refused the one-time code${verified.message === '' ? '' : `: "${excerpt(verified.message, 120)}"`} — run --login again for a new code`);
    const done = await b2cPost(context, 'one-time code page', tenantUrl, settings, '', { ...target, verificationCode: code, request_type: 'RESPONSE' });
    if (done.status !== '200') throw new AuthError(`${stepWhere(context, 'one-time code page')}: refused${done.message === '' ? '' : ` ("${excerpt(done.message, 120)}")`}`);
    page = await next('return to the app');
    if (page.location === undefined) throw new AuthError(`${stepWhere(context, 'return to the app')}: the identity provider did not return to the app after the code`);
  }
  const authCode = authorizationCode(context, 'return to the app', page.location);
  const tokens = await tokenRequest(context, 'token', `${tenantUrl}/oauth2/v2.0/token`, { grant_type: 'authorization_code', scope: `openid offline_access ${clientId}`, client_id: clientId, code: authCode, code_verifier: pkce.verifier, redirect_uri: app }, (error) => new AuthError(`${stepWhere(context, 'token')}: the authorization code was refused (${excerpt(error, 80)})`));
  if (typeof tokens.access_token !== 'string' || typeof tokens.refresh_token !== 'string') throw new AuthError(`${stepWhere(context, 'token')}: the answer lacks access_token or refresh_token`);
  const account = pickAccount(context, await accounts(context, tokens.access_token));
  return { refreshToken: tokens.refresh_token, tenantUrl, account };
}

async function accounts(context: LoginContext, bearer: string): Promise<Record<string, unknown>> {
  const eudapi = hostOf(context, context.utility.hosts?.accounts ?? '');
  return stepObject(context, 'accounts', await signinStep(context, { name: 'accounts', url: `${eudapi}/mobile/custom/auth/accounts`, headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' } }));
}

/** Read a kept session, or undefined (none kept, or a file of another shape). */
function keptSession(value: Record<string, unknown> | undefined): ExelonSession | undefined {
  const v = value as Partial<ExelonSession> | undefined;
  if (typeof v?.refreshToken !== 'string' || typeof v.tenantUrl !== 'string' || typeof v.account?.accountNumber !== 'string') return undefined;
  return v as ExelonSession;
}

/** The Exelon group's sign-in. */
export const exelonSignin: LoginStrategy = {
  kind: 'exelon-b2c-mfa',
  keepsSession: true,
  async login(context): Promise<LoginResult> {
    let session = keptSession(await context.session?.load());
    if (session === undefined || context.ask !== undefined) {
      // --login always signs in anew; a scheduled run without a kept session reaches the MFA
      // step and says to run --login (an account without MFA would get through).
      session = await interactiveLogin(context);
    } else {
      const clientId = constant(context, 'clientId');
      const refreshed = await tokenRequest(context, 'refresh', `${session.tenantUrl}/oauth2/v2.0/token`, { grant_type: 'refresh_token', response_type: 'token', scope: `openid offline_access ${clientId}`, client_id: clientId, refresh_token: session.refreshToken }, (error) => expiredSession(context, error));
      if (typeof refreshed.refresh_token !== 'string' || refreshed.refresh_token === '') throw expiredSession(context, 'no refresh_token in the answer');
      session = { ...session, refreshToken: refreshed.refresh_token };
    }
    // Keep the newest refresh token before anything else can fail: the old one may be spent.
    await context.session?.save(session as unknown as Record<string, unknown>);
    const token = await opowerToken(context, session);
    const portal = portalOf(context, session.account);
    return { headers: { authorization: `Bearer ${token}` }, secrets: [token, session.refreshToken], ...(portal === undefined ? {} : { portal }) };
  },
};
