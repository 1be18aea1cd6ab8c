/**
 * A fake of the AEP group's own sign-in site (www.aepohio.com and its six siblings), feeding the
 * fake Opower portal behind it. Paths, the `UserID`/`Password` field-name rule, the error markup
 * and the token answer's shape are those the public Opower client handles (tronikos/opower
 * `aepbase.py`): GET /account/usage/ (the form) → POST it → a page naming
 * `https://{sub}.opower.com` → GET /account/oauth/ValidToken → `[{"data":{"AccessToken"}}]`.
 *
 * Assumed (not visible in that client): the ASP.NET WebForms field names
 * (`ctl00$…$UserID`, `__VIEWSTATE`, `__EVENTVALIDATION` — the client says only that the names are
 * generated), that a view state not issued by the site is refused, the wording of the refusals,
 * that the session is a cookie, and that ValidToken answers `[]` without a session.
 */
import { randomBytes } from 'node:crypto';
import type { OpowerPortal } from './opower-portal.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

/** Options of the fake site. */
export interface AepSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  /** The Opower subdomain the signed-in page links (also the portal's utility code). */
  subdomain: string;
  /** The account is locked: every sign-in is refused with the lock message. */
  locked?: boolean;
}

/** A running fake site. */
export interface AepSite extends SiteServer {
  /** Steps requested, in order (`form`, `post`, `ValidToken`). */
  steps: string[];
}

const PREFIX = 'ctl00$ctl00$MainContent$LoginControl$';

/** Start the fake site on a free loopback port. */
export async function startAepSite(options: AepSiteOptions): Promise<AepSite> {
  const viewStates = new Set<string>();
  const sessions = new Set<string>();
  const steps: string[] = [];
  const page = (inner: string): string => `<!DOCTYPE html><html><head><title>Usage | AEP</title></head><body>${inner}</body></html>`;
  const server = await startSiteServer((req, res) => {
    if (req.url.pathname === '/account/usage/' && req.method === 'GET') {
      steps.push('form');
      const viewState = randomBytes(18).toString('base64');
      viewStates.add(viewState);
      return res.html(
        200,
        page(`<form method="post" action="./" id="aspnetForm">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="${viewState}" />
<input type="hidden" name="__VIEWSTATEGENERATOR" value="CA0B0334" />
<input type="hidden" name="__EVENTVALIDATION" value="/wEdAAXs" />
<label>User ID</label><input name="${PREFIX}UserID" type="text" id="UserID" />
<label>Password</label><input name="${PREFIX}Password" type="password" id="Password" />
<input type="checkbox" name="${PREFIX}RememberMe" value="on" />
<input type="submit" name="${PREFIX}LoginButton" value="Log In" />
</form>`),
      );
    }
    if (req.url.pathname === '/account/usage/' && req.method === 'POST') {
      steps.push('post');
      const refuse = (reason: string): void => res.html(200, page(`<div class="login"><div class="error" role="alert"><h4>Sign in failed</h4><p>${reason}</p></div></div>`));
      if (!viewStates.delete(req.body.__VIEWSTATE ?? '')) return refuse('Your session has expired. Please try again.');
      if (options.locked) return refuse('Your account has been locked. Please call customer service to unlock it.');
      if (req.body[`${PREFIX}UserID`] !== options.username || req.body[`${PREFIX}Password`] !== options.password) return refuse('The User ID or Password you entered is incorrect.');
      const session = randomBytes(16).toString('hex');
      sessions.add(session);
      return res.html(200, page(`<div id="usage"><iframe src="https://${options.subdomain}.opower.com/ei/x/embedded-api/energy-usage" title="usage"></iframe></div>`), { 'set-cookie': `ASP.NET_SessionId=${session}; Path=/; HttpOnly` });
    }
    if (req.url.pathname === '/account/oauth/ValidToken') {
      steps.push('ValidToken');
      if (!sessions.has(req.cookie('ASP.NET_SessionId') ?? '') || req.headers['x-requested-with'] !== 'XMLHttpRequest') return res.json(200, []);
      return res.json(200, [{ data: { AccessToken: options.portal.issueBearer(), ExpiresIn: 1200 } }]);
    }
    return res.html(404, page('<h1>Not found</h1>'));
  });
  return { ...server, steps };
}
