/**
 * A fake of the ConEd family's own sign-in site (coned.com, oru.com), feeding the fake Opower
 * portal behind it. The steps, paths, JSON fields and cookie names are those the public Opower
 * client handles (tronikos/opower `coned.py`): Login → (VerifyFactor) → the redirect → GetOPowerToken.
 *
 * Assumed (not visible in that client): how the site answers a wrong password (200 with
 * `login: false` — the client only reads that field), that the redirect sets the session cookie
 * GetOPowerToken needs, and that a code is accepted within one 30-second step either side.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { base32Decode, totp } from '../../src/agents/opower/signin/totp.ts';
import type { OpowerPortal } from './opower-portal.ts';

/** Options of the fake site. */
export interface ConedSiteOptions {
  portal: OpowerPortal;
  username: string;
  password: string;
  /** The account's authenticator secret (base32); undefined: the account has no MFA. */
  totpSecret?: string;
}

/** A running fake site. */
export interface ConedSite {
  url: string;
  /** Steps requested, in order (`Login`, `VerifyFactor`, `redirect`, `GetOPowerToken`). */
  steps: string[];
  stop(): Promise<void>;
}

const API = '/sitecore/api/ssc/ConEdWeb-Foundation-Login-Areas-LoginAPI/User/0';
const TOKEN = '/sitecore/api/ssc/ConEd-Cms-Services-Controllers-Opower/OpowerService/0/GetOPowerToken';

/** Start the fake site on a free loopback port. */
export async function startConedSite(options: ConedSiteOptions): Promise<ConedSite> {
  const devices = new Set<string>();
  const pending = new Set<string>(); // password accepted, code awaited
  const sessions = new Set<string>();
  const steps: string[] = [];
  const cookie = (req: http.IncomingMessage, name: string): string | undefined => new RegExp(`(?:^|;\\s*)${name}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
  const json = (res: http.ServerResponse, body: unknown, headers: http.OutgoingHttpHeaders = {}): void => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://site');
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const redirect = (): string => {
        const ticket = randomBytes(12).toString('hex');
        sessions.add(`t-${ticket}`);
        return `/sso/complete?ticket=${ticket}`;
      };
      if (req.method === 'POST' && url.pathname === `${API}/Login`) {
        steps.push('Login');
        if (body.LoginEmail !== options.username || body.LoginPassword !== options.password) return json(res, { login: false });
        if (options.totpSecret === undefined || devices.has(cookie(req, 'CE_DEVICE_ID') ?? '')) return json(res, { login: true, authRedirectUrl: redirect() });
        const flow = randomBytes(12).toString('hex');
        pending.add(flow);
        return json(res, { login: true, newDevice: true, noMfa: false }, { 'set-cookie': `CE_MFA_FLOW=${flow}; Path=/; HttpOnly` });
      }
      if (req.method === 'POST' && url.pathname === `${API}/VerifyFactor`) {
        steps.push('VerifyFactor');
        const flow = cookie(req, 'CE_MFA_FLOW');
        const key = base32Decode(options.totpSecret ?? '');
        const now = Math.floor(Date.now() / 1000);
        const good = [-30, 0, 30].some((d) => totp(key, now + d) === body.MFACode);
        if (flow === undefined || !pending.has(flow) || !good) return json(res, { code: false });
        pending.delete(flow);
        const device = randomBytes(12).toString('hex');
        devices.add(device);
        return json(res, { code: true, authRedirectUrl: redirect() }, { 'set-cookie': `CE_DEVICE_ID=${device}; Path=/; HttpOnly` });
      }
      if (req.method === 'GET' && url.pathname === '/sso/complete') {
        steps.push('redirect');
        const ticket = `t-${url.searchParams.get('ticket') ?? ''}`;
        if (!sessions.delete(ticket)) {
          res.writeHead(403);
          return res.end();
        }
        const session = randomBytes(12).toString('hex');
        sessions.add(session);
        res.writeHead(302, { location: '/en/accounts-billing/my-account/energy-use', 'set-cookie': `CE_SESSION=${session}; Path=/; HttpOnly` });
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === '/en/accounts-billing/my-account/energy-use') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('<html><title>My Account</title></html>');
      }
      if (req.method === 'GET' && url.pathname === TOKEN) {
        steps.push('GetOPowerToken');
        if (!sessions.has(cookie(req, 'CE_SESSION') ?? '')) {
          res.writeHead(401, { 'content-type': 'application/json' });
          return res.end('{"message":"not signed in"}');
        }
        return json(res, options.portal.issueBearer());
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    steps,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
