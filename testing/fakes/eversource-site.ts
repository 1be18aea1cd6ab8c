/**
 * A fake of Eversource's sign-in: www.eversource.com (login page, MSLogin, account API, widget
 * data) and its Okta org (authn, authorize, token) on one origin, feeding the fake Opower portal
 * behind it. Paths, fields, statuses and the `data.code = '…'` page are those the public Opower
 * client handles (tronikos/opower `eversource.py`); Okta's authn `status`/`sessionToken` and 401
 * for bad credentials are Okta's documented Authentication API. Assumed: the login page's markup
 * around `formToken`, the refusal's `Errors` key and wording, the account JSON beyond the fields
 * read, and that the authorization code carries a `-` (escaped `\x2D`, as the client expects).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { OpowerPortal } from './opower-portal.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

/** Options of the fake. */
export interface EversourceSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  /** MSLogin answers this status for the right password (default SUCCESS). */
  status?: 'SUCCESS' | 'MFA_REQUIRED';
}

/** A running fake. */
export interface EversourceSite extends SiteServer {
  steps: string[];
  issued: string[];
}

const ISSUER = '/oauth2/ausrjxam6icWYMIj41t7';

/** Start the fake on a free loopback port. */
export async function startEversourceSite(options: EversourceSiteOptions): Promise<EversourceSite> {
  const steps: string[] = [];
  const issued: string[] = [];
  const formTokens = new Set<string>();
  const sessionTokens = new Set<string>();
  const codes = new Map<string, string>(); // code → PKCE challenge
  const accessTokens = new Set<string>();
  const mint = (prefix: string): string => {
    const token = `${prefix}${randomBytes(24).toString('base64url')}`;
    issued.push(token);
    return token;
  };
  const oktaUser = `${options.username.split('@')[0]}@eversource-external`;
  const server = await startSiteServer((req, res) => {
    const p = req.url.pathname;
    const q = req.url.searchParams;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? '';
    if (p === '/security/account/Login') {
      steps.push('login page');
      const token = mint('ft');
      formTokens.add(token);
      return res.html(200, `<!DOCTYPE html><html><body><div id="login" data-config="{&quot;formToken&quot;:&quot;${token}&quot;,&quot;mfa&quot;:true}"></div></body></html>`);
    }
    if (p === '/security/account/MSLogin' && req.method === 'POST') {
      steps.push('MSLogin');
      if (!formTokens.delete(String(req.headers.__requestverificationtoken ?? ''))) return res.json(200, { IsSuccess: false, Errors: { Form: 'Your session has expired.' } });
      if (req.body.WebId !== options.username || req.body.Password !== options.password) return res.json(200, { IsSuccess: false, Errors: { Password: '<span>The username or password you entered is incorrect.</span>' } });
      return res.json(200, { IsSuccess: true, status: options.status ?? 'SUCCESS', OktaUsername: oktaUser });
    }
    if (p === '/api/v1/authn' && req.method === 'POST') {
      steps.push('authn');
      if (req.body.username !== oktaUser || req.body.password !== options.password) return res.json(401, { errorCode: 'E0000004', errorSummary: 'Authentication failed' });
      const sessionToken = mint('st');
      sessionTokens.add(sessionToken);
      return res.json(200, { status: 'SUCCESS', sessionToken, expiresAt: '2026-04-01T17:00:00.000Z' });
    }
    if (p === `${ISSUER}/v1/authorize`) {
      steps.push('authorize');
      if (q.get('client_id') !== '0oarjx5m8i3r1586a1t7' || q.get('code_challenge_method') !== 'S256' || q.get('response_mode') !== 'okta_post_message' || !sessionTokens.delete(q.get('sessionToken') ?? '')) {
        return res.html(200, `<html><script>var data = {}; data.error = 'login_required';</script></html>`);
      }
      const code = `-${mint('ac')}`;
      codes.set(code, q.get('code_challenge') ?? '');
      return res.html(200, `<!DOCTYPE html><html><head><script type="text/javascript">\nvar data = {};\ndata.code = '${code.replace('-', '\\x2D')}';\ndata.state = '${q.get('state') ?? ''}';\nwindow.parent.postMessage(data, 'https://www.eversource.com');\n</script></head></html>`);
    }
    if (p === `${ISSUER}/v1/token` && req.method === 'POST') {
      steps.push('token');
      const b = req.body;
      const challenge = codes.get(b.code ?? '');
      codes.delete(b.code ?? '');
      if (b.grant_type !== 'authorization_code' || challenge === undefined || createHash('sha256').update(b.code_verifier ?? '').digest('base64url') !== challenge) return res.json(400, { error: 'invalid_grant', error_description: 'The authorization code is invalid or has expired.' });
      const access = mint('eyJ');
      accessTokens.add(access);
      return res.json(200, { token_type: 'Bearer', expires_in: 3600, access_token: access, scope: 'openid email', id_token: mint('eyJ') });
    }
    if (p === '/cg/customer/api/account') {
      steps.push('accounts');
      if (!accessTokens.has(bearer)) return res.json(401, { message: 'unauthorized' });
      return res.json(200, { TotalCount: 1, Accounts: [{ BillingAccountIdentifier: '51234567890', ServiceAddress: '1 Main St' }] });
    }
    if (p === '/cg/customer/api/accountbilling/getOpowerWidgetData/51234567890') {
      steps.push('widget');
      if (!accessTokens.has(bearer)) return res.json(401, { message: 'unauthorized' });
      return res.json(200, { jwtToken: options.portal.issueBearer(), utilityCode: 'ever' });
    }
    return res.html(404, '<html><body>Not found</body></html>');
  });
  return { ...server, steps, issued };
}
