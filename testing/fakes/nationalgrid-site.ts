/**
 * A fake of National Grid's B2C sign-in (login.nationalgrid.com), feeding the fake Opower portal
 * behind it. The tenant, policy, client id, redirect URI, scopes and the OpenID Connect steps are
 * those the public Opower client uses (tronikos/opower `nationalgrid.py`, `oidchelper.py`); the
 * discovery document's fields are OpenID Connect Discovery 1.0 §3. See b2c-pages.ts for B2C's
 * own facts and what is assumed.
 */
import type { OpowerPortal } from './opower-portal.ts';
import { B2cState, b2cCookies, b2cPage } from './b2c-pages.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

const TENANT = '0e1366c5-731c-42b3-90d3-508039d9e70f';
const POLICY = 'B2C_1A_UWP_NationalGrid_convert_merge_signin';
const CLIENT_ID = '36488660-e86a-4a0d-8316-3df49af8d06d';
const REDIRECT_URI = 'https://myaccount.nationalgrid.com/auth-landing';

/** Options of the fake. */
export interface NationalGridSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  locked?: boolean;
}

/** A running fake. */
export interface NationalGridSite extends SiteServer {
  steps: string[];
  issued: string[];
}

/** Start the fake on a free loopback port. */
export async function startNationalGridSite(options: NationalGridSiteOptions): Promise<NationalGridSite> {
  const b2c = new B2cState();
  const steps: string[] = [];
  const base = `/${TENANT}/${POLICY}`;
  const server = await startSiteServer((req, res) => {
    const p = req.url.pathname;
    const q = req.url.searchParams;
    if (p === `${base}/v2.0/.well-known/openid-configuration`) {
      steps.push('configuration');
      return res.json(200, { issuer: `${server.url}/${TENANT}/v2.0/`, authorization_endpoint: `${server.url}${base}/oauth2/v2.0/authorize`, token_endpoint: `${server.url}${base}/oauth2/v2.0/token`, end_session_endpoint: `${server.url}${base}/oauth2/v2.0/logout`, response_types_supported: ['code', 'id_token', 'code id_token'], scopes_supported: ['openid'], code_challenge_methods_supported: ['plain', 'S256'] });
    }
    if (p === `${base}/oauth2/v2.0/authorize`) {
      steps.push('sign-in page');
      if (q.get('client_id') !== CLIENT_ID || q.get('redirect_uri') !== REDIRECT_URI || q.get('code_challenge_method') !== 'S256') return res.html(400, '<html><body>AADB2C90079: bad request</body></html>');
      const tx = b2c.begin({ policy: POLICY, tenant: `/${TENANT}/${POLICY}`, clientId: CLIENT_ID, redirectUri: REDIRECT_URI, challenge: q.get('code_challenge') ?? '' });
      return res.html(200, b2cPage(tx, 'CombinedSigninAndSignup'), b2cCookies(tx));
    }
    if (req.method === 'POST' && p === `${base}/SelfAsserted`) {
      steps.push('password');
      const tx = b2c.find(q.get('tx'), req.headers['x-csrf-token'] as string | undefined, req.cookie('x-ms-cpim-csrf'));
      if (tx === undefined) return res.json(403, { status: '403', message: 'The request is not valid (CSRF).' });
      if (options.locked) return res.json(200, { status: '400', message: 'Your account is temporarily locked to prevent unauthorized use. Try again later.' });
      if (req.body.signInName !== options.username || req.body.password !== options.password) return res.json(200, { status: '400', message: 'Invalid username or password.' });
      tx.stage = 'done';
      return res.json(200, { status: '200' });
    }
    if (p === `${base}/api/CombinedSigninAndSignup/confirmed`) {
      steps.push('confirm');
      const tx = b2c.find(q.get('tx'), q.get('csrf_token'), req.cookie('x-ms-cpim-csrf'));
      if (tx === undefined || tx.stage !== 'done') return res.html(403, '<html><body>AADB2C90246</body></html>');
      return res.redirect(`${REDIRECT_URI}?code=${b2c.codeFor(tx)}`);
    }
    if (req.method === 'POST' && p === `${base}/oauth2/v2.0/token`) {
      steps.push('token');
      const b = req.body;
      if (b.grant_type !== 'authorization_code' || !b2c.redeem(b.code, b.client_id, b.redirect_uri, b.code_verifier) || b.scope !== `${CLIENT_ID} openid profile offline_access`) return res.json(400, { error: 'invalid_grant' });
      return res.json(200, { access_token: options.portal.issueBearer(), id_token: b2c.mint('access'), refresh_token: b2c.mint('refresh'), token_type: 'Bearer', expires_in: 3600 });
    }
    return res.html(404, '<html><body>Not found</body></html>');
  });
  return { ...server, steps, issued: b2c.issued };
}
