/**
 * Fake LAN devices for the scrape agent, on 127.0.0.1 port 0, serving the payloads in
 * test/fixtures/scrape: a Shelly Plug S (Gen1 `GET /status`), a Tasmota plug
 * (`GET /cm?cmnd=Status%208`) and an APC network management card whose status page needs a
 * form login (hidden `formtoken`, session cookie, 302 back to the logon page without it).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const FIXTURES = path.resolve(import.meta.dirname, '../../test/fixtures/scrape');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'utf8');

/** A running fake. */
export interface ScrapeDevices {
  url: string;
  /** The only credentials the UPS card accepts. */
  username: string;
  password: string;
  /** Logins attempted (successful or not). */
  logins: number;
  stop(): Promise<void>;
}

/** Start the fake devices. */
export async function startScrapeDevices(): Promise<ScrapeDevices> {
  const sessions = new Set<string>();
  const state = { logins: 0 };
  const username = 'apc';
  const password = 'correct horse battery';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://device');
    const send = (status: number, type: string, body: string, headers: { [k: string]: string } = {}): void => {
      res.writeHead(status, { 'content-type': type, ...headers });
      res.end(body);
    };
    const cookie = /(?:^|;\s*)C0=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (url.pathname === '/status') return send(200, 'application/json', fixture('shelly-plug-s-status.json'));
    if (url.pathname === '/cm' && url.searchParams.get('cmnd') === 'Status 8') return send(200, 'application/json', fixture('tasmota-status8.json'));
    if (url.pathname === '/logon.htm') return send(200, 'text/html; charset=utf-8', fixture('apc-nmc-logon.htm'));
    if (url.pathname === '/Forms/login1' && req.method === 'POST') {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        state.logins++;
        const form = new URLSearchParams(body);
        const ok = form.get('formtoken') === '3f9a61c2e07b44d1' && form.get('prefLanguage') === '00000000' && form.get('login_username') === username && form.get('login_password') === password;
        if (!ok) return send(200, 'text/html; charset=utf-8', fixture('apc-nmc-logon.htm').replace('<form', '<p class="error">Your login attempt failed.</p><form'));
        const token = `s${state.logins}${Date.now().toString(36)}`;
        sessions.add(token);
        send(303, 'text/html', '', { location: '/NMC/upsstat.htm', 'set-cookie': `C0=${token}; Path=/; HttpOnly` });
      });
      return;
    }
    if (url.pathname === '/NMC/upsstat.htm') {
      if (!cookie || !sessions.has(cookie)) return send(302, 'text/html', '', { location: '/logon.htm' });
      return send(200, 'text/html; charset=utf-8', fixture('apc-nmc-status.htm'));
    }
    if (url.pathname === '/maintenance') return send(503, 'text/html', '<html><body>Device busy</body></html>');
    send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    username,
    password,
    get logins() {
      return state.logins;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
