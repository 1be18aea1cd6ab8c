/**
 * A fake of the sites that hand the Opower token to their usage page (Puget Sound Energy,
 * Duquesne Light), feeding the fake Opower portal behind it. Paths, form fields and the script
 * patterns are those the public Opower client handles (tronikos/opower `pse.py`,
 * `duquesnelight.py`); both hosts of Duquesne (auth., www.) answer on one origin.
 *
 * Assumed (not visible in that client): PSE's anti-forgery cookie beside the hidden field, what
 * AsyncSignIn answers (200 with a small JSON either way; the account list tells), Duquesne's 400
 * body, the session cookies' names, and that a usage page without a session redirects to login.
 */
import { randomBytes } from 'node:crypto';
import type { OpowerPortal } from './opower-portal.ts';
import { startSiteServer, type SiteServer } from './site-server.ts';

/** Options of the fake. */
export interface PageTokenSiteOptions {
  variant: 'pse' | 'duquesne';
  portal: OpowerPortal;
  username: string;
  password: string;
  locked?: boolean;
}

/** A running fake. */
export interface PageTokenSite extends SiteServer {
  steps: string[];
}

/** Start the fake on a free loopback port. */
export async function startPageTokenSite(options: PageTokenSiteOptions): Promise<PageTokenSite> {
  const sessions = new Set<string>();
  const forgery = new Set<string>();
  const steps: string[] = [];
  const good = (u: string | undefined, p: string | undefined): boolean => !options.locked && u === options.username && p === options.password;
  const newSession = (name: string): Record<string, string> => {
    const id = randomBytes(16).toString('hex');
    sessions.add(id);
    return { 'set-cookie': `${name}=${id}; Path=/; HttpOnly` };
  };
  const server = await startSiteServer((req, res) => {
    const p = req.url.pathname;
    if (options.variant === 'pse') {
      if (p === '/en/login') {
        steps.push('login page');
        const token = randomBytes(24).toString('base64url');
        forgery.add(token);
        return res.html(200, `<!DOCTYPE html><html><body><form id="signin"><input name="__RequestVerificationToken" type="hidden" value="${token}" /><input name="Username"/><input name="Password" type="password"/></form></body></html>`, { 'set-cookie': `__RequestVerificationToken_L2=${randomBytes(12).toString('hex')}; Path=/; HttpOnly` });
      }
      if (p === '/api/pseauthentication/AsyncSignIn' && req.method === 'POST') {
        steps.push('password');
        if (!forgery.delete(req.body.__RequestVerificationToken ?? '')) return res.html(400, '<html><body>Bad Request</body></html>');
        if (!good(req.body.Username, req.body.Password)) return res.json(200, { success: false, message: options.locked ? req.body.LockedMessage : req.body.GenericMessage });
        return res.json(200, { success: true, redirectUrl: '/en/account-and-billing' }, newSession('PSE_SESSION'));
      }
      if (p === '/api/AccountSelector/GetContractAccountJson') {
        steps.push('account list');
        if (!sessions.has(req.cookie('PSE_SESSION') ?? '')) return res.html(200, '');
        return res.json(200, [{ ContractAccount: '200012345678', IsSelected: true }]);
      }
      if (p === '/en/account-and-billing/my-usage/view-my-usage') {
        steps.push('usage page');
        if (!sessions.has(req.cookie('PSE_SESSION') ?? '')) return res.redirect('/en/login');
        return res.html(200, `<!DOCTYPE html><html><head><script src="/scripts/opower-widgets.js"></script><script>\n  var customerId = "x";\n  var accessToken = "${options.portal.issueBearer()}";\n</script></head><body><div id="opower-widget"></div></body></html>`);
      }
    } else {
      if (p === '/oauth/authorize/login' && req.method === 'POST') {
        steps.push('password');
        if (req.body.grant_type !== 'password') return res.json(400, { error: 'unsupported_grant_type' });
        if (!good(req.body.username, req.body.password)) return res.json(400, { error: 'invalid_grant', error_description: options.locked ? 'Your account is locked.' : 'The user name or password is incorrect.' });
        return res.json(200, { redirect: 'https://www.duquesnelight.com/' }, newSession('dqe_session'));
      }
      if (p === '/energy-money-savings/my-electric-use') {
        steps.push('usage page');
        if (!sessions.has(req.cookie('dqe_session') ?? '')) return res.redirect('/login');
        return res.html(200, `<!DOCTYPE html><html><head><script>\nwindow.dqeConfig = {\n  "Account": "0123",\n  "OPowerToken": "${options.portal.issueBearer()}"\n};\n</script></head><body></body></html>`);
      }
      if (p === '/login') return res.html(200, '<html><body><form>sign in</form></body></html>');
    }
    return res.html(404, '<html><body>Not found</body></html>');
  });
  return { ...server, steps };
}
