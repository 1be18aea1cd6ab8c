/**
 * A fake of an Exelon utility's sign-in (secure.{utility}.com, its B2C tenant and the eudapi
 * account API, all on one origin), feeding the fake Opower portal behind it. Paths, policies,
 * fields, the MFA page's SA_FIELDS and the account list's shape are those the public Opower
 * client handles (tronikos/opower `exelon.py`); see b2c-pages.ts for B2C's own facts.
 *
 * Accounts may have: no MFA (the app is returned to at once), e-mail-only MFA (the forced kind:
 * `extension_isMFAEnabled` False and an `emailVerificationControl`), or a choice of e-mail and
 * text. The code "sent" is kept in `sentCodes` for the test to type. Assumed: the web login's
 * redirect target and client id, the lock message, that codes are 6 digits, and that a refresh
 * token stays valid after it is rotated (B2C's default) until `expireSessions()`.
 */
import type { OpowerPortal } from './opower-portal.ts';
import { B2cState, b2cCookies, b2cPage, INVALID_GRANT } from './b2c-pages.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

/** Options of the fake. */
export interface ExelonSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  /** `euazurebge` etc.: the tenant's name (`{name}.onmicrosoft.com`). */
  tenantName: string;
  /** The app's client id and redirect scheme (the utility's row). */
  clientId: string;
  mobileId: string;
  mfa: 'none' | 'email-only' | 'choice';
  locked?: boolean;
  /** Each refresh token works once (rotation with revocation): a run must use the newest one. */
  singleUseRefresh?: boolean;
  /** The account's number, whether residential and its state (Pepco/Delmarva pick the portal by these). */
  account?: { accountNumber: string; isResidential: boolean; state: string };
}

/** A running fake. */
export interface ExelonSite extends SiteServer {
  /** Codes "sent", newest last, with where to. */
  sentCodes: { channel: 'Email' | 'Text'; code: string }[];
  /** Steps requested, in order. */
  steps: string[];
  /** Every token and code it issued. */
  issued: string[];
  /** Refresh tokens stop working (expired, revoked): the next refresh answers invalid_grant. */
  expireSessions(): void;
}

const WEB_POLICY = 'B2C_1A_SignIn';
const MOBILE_POLICY = 'B2C_1A_SignIn_Mobile';
const EMAIL = 'r*******@example.com';
const PHONE = 'XXX-XXX-0123';

/** Start the fake on a free loopback port. */
export async function startExelonSite(options: ExelonSiteOptions): Promise<ExelonSite> {
  const b2c = new B2cState();
  const sentCodes: ExelonSite['sentCodes'] = [];
  const steps: string[] = [];
  const account = options.account ?? { accountNumber: '5500123456', isResidential: true, state: 'MD' };
  const tenant = `/${options.tenantName}.onmicrosoft.com`;
  const server = await startSiteServer((req, res) => {
    const p = req.url.pathname;
    const q = req.url.searchParams;
    if (p === '/Pages/Login.aspx') {
      steps.push('login page');
      return res.redirect(`${tenant}/${WEB_POLICY}/oauth2/v2.0/authorize?client_id=web-portal&response_type=code&redirect_uri=${encodeURIComponent('https://secure.example/Pages/LoginCallback')}`);
    }
    if (p === `${tenant}/${WEB_POLICY}/oauth2/v2.0/authorize`) {
      if (q.get('p') === MOBILE_POLICY) {
        steps.push('app sign-in page');
        if (q.get('client_id') !== options.clientId || q.get('redirect_uri') !== `${options.mobileId}://auth` || q.get('code_challenge_method') !== 'S256' || (q.get('code_challenge') ?? '') === '') return res.html(400, '<html><body>AADB2C90079: bad request</body></html>');
        const tx = b2c.begin({ policy: MOBILE_POLICY, tenant: `${tenant}/${MOBILE_POLICY}`, clientId: options.clientId, redirectUri: options.mobileId, challenge: q.get('code_challenge')! });
        return res.html(200, b2cPage(tx, 'CombinedSigninAndSignup'), b2cCookies(tx));
      }
      const web = b2c.begin({ policy: WEB_POLICY, tenant: `${tenant}/${WEB_POLICY}`, clientId: 'web-portal', redirectUri: 'web', challenge: '' });
      return res.html(200, b2cPage(web, 'CombinedSigninAndSignup'), b2cCookies(web));
    }
    const base = `${tenant}/${MOBILE_POLICY}`;
    if (req.method === 'POST' && p.startsWith(`${base}/SelfAsserted`)) {
      const tx = b2c.find(q.get('tx'), req.headers['x-csrf-token'] as string | undefined, req.cookie('x-ms-cpim-csrf'));
      if (tx === undefined) return res.json(403, { status: '403', message: 'The request is not valid (CSRF).' });
      const action = p.slice(`${base}/SelfAsserted`.length);
      const b = req.body;
      if (action === '' && tx.stage === 'start') {
        steps.push('password');
        if (options.locked) return res.json(200, { status: '400', message: 'Your account is temporarily locked to prevent unauthorized use. Try again later.' });
        if (b.signInName !== options.username || b.password !== options.password) return res.json(200, { status: '400', message: 'Your password is incorrect.' });
        tx.stage = options.mfa === 'none' ? 'done' : 'mfa';
        return res.json(200, { status: '200' });
      }
      if (action === '' && tx.stage === 'mfa' && b.mfaEnabledRadio !== undefined) {
        steps.push('choose');
        tx.data.channel = b.mfaEnabledRadio;
        tx.stage = 'chosen';
        return res.json(200, { status: '200' });
      }
      const send = /^\/DisplayControlAction\/vbeta\/(email|text)VerificationControl\/(SendCode|VerifyCode)$/.exec(action);
      if (send !== null && (tx.stage === 'chosen' || (tx.stage === 'mfa' && options.mfa === 'email-only'))) {
        const channel = send[1] === 'text' ? 'Text' : 'Email';
        if (send[2] === 'SendCode') {
          steps.push(`send ${channel}`);
          const code = String(100000 + Math.floor(Math.random() * 900000));
          tx.data.code = code;
          tx.data.channel = channel;
          sentCodes.push({ channel, code });
          return res.json(200, { status: '200' });
        }
        steps.push('verify');
        if (tx.data.code === undefined || b.verificationCode !== tx.data.code) return res.json(200, { status: '400', message: 'The verification code you have entered does not match our records. Please try again, or request a new code.' });
        tx.stage = 'verified';
        return res.json(200, { status: '200' });
      }
      if (action === '' && tx.stage === 'verified' && b.verificationCode === tx.data.code) {
        steps.push('code page');
        tx.stage = 'done';
        return res.json(200, { status: '200' });
      }
      return res.json(200, { status: '400', message: `unexpected post at stage ${tx.stage}` });
    }
    if (req.method === 'GET' && p === `${base}/api/SelfAsserted/confirmed`) {
      const tx = b2c.find(q.get('tx'), q.get('csrf_token'), req.cookie('x-ms-cpim-csrf'));
      if (tx === undefined) return res.html(403, '<html><body>AADB2C90246: the transaction is not valid</body></html>');
      steps.push(`confirmed ${tx.stage}`);
      if (tx.stage === 'done') return res.redirect(`${options.mobileId}://auth/?code=${b2c.codeFor(tx)}`);
      if (tx.stage === 'mfa') {
        const fields =
          options.mfa === 'email-only'
            ? [{ ID: 'extension_isMFAEnabled', PRE: 'False' }, { ID: 'emailVerificationControl', DISPLAY_FIELDS: [{ ID: 'displayEmailAddress', PRE: EMAIL }] }]
            : [{ ID: 'displayEmailAddress', PRE: EMAIL }, { ID: 'displayPhoneNumber', PRE: PHONE }, { ID: 'mfaEnabledRadio', OPTIONS: ['Email', 'Text', 'Call'] }];
        return res.html(200, b2cPage(tx, 'SelfAsserted', { AttributeFields: fields }), b2cCookies(tx));
      }
      return res.html(200, b2cPage(tx, 'SelfAsserted'), b2cCookies(tx));
    }
    if (req.method === 'POST' && p === `${base}/oauth2/v2.0/token`) {
      const b = req.body;
      if (b.grant_type === 'authorization_code') {
        steps.push('token');
        if (!b2c.redeem(b.code, b.client_id, b.redirect_uri, b.code_verifier)) return res.json(400, { error: 'invalid_grant', error_description: 'AADB2C90090: The provided JWE is not valid.' });
        return res.json(200, { access_token: b2c.mint('access'), refresh_token: b2c.mint('refresh'), token_type: 'Bearer', expires_in: 3600 });
      }
      if (b.grant_type === 'refresh_token') {
        if (!b2c.refreshTokens.has(b.refresh_token ?? '') || b.client_id !== options.clientId) return res.json(400, INVALID_GRANT);
        if ((b.scope ?? '').endsWith('/opower/opower_connect')) {
          steps.push('Opower token');
          if (b.scope !== `https://${options.tenantName}.onmicrosoft.com/opower/opower_connect` || b.nonce !== account.accountNumber) return res.json(400, { error: 'invalid_request', error_description: 'scope or nonce' });
          return res.json(200, { access_token: options.portal.issueBearer(), token_type: 'Bearer', expires_in: 1200 });
        }
        steps.push('refresh');
        if (options.singleUseRefresh) b2c.refreshTokens.delete(b.refresh_token!);
        return res.json(200, { access_token: b2c.mint('access'), refresh_token: b2c.mint('refresh'), token_type: 'Bearer', expires_in: 3600 });
      }
      return res.json(400, { error: 'unsupported_grant_type' });
    }
    if (p === '/mobile/custom/auth/accounts') {
      steps.push('accounts');
      const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
      if (bearer === undefined || !b2c.accessTokens.has(bearer)) return res.json(401, { success: false });
      return res.json(200, {
        success: true,
        data: [
          { accountNumber: '4400999999', status: 'Inactive', isDefaultProfile: false, isResidential: true },
          { accountNumber: account.accountNumber, status: 'Active', isDefaultProfile: true, isResidential: account.isResidential, PremiseInfo: [{ mainAddress: { townDetail: { stateOrProvince: account.state } } }] },
        ],
      });
    }
    return res.html(404, '<html><body>Not found</body></html>');
  });
  return {
    ...server,
    sentCodes,
    steps,
    issued: b2c.issued,
    expireSessions: () => b2c.refreshTokens.clear(),
  };
}
