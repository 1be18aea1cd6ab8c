/**
 * The small HTTP server under the fake sign-in sites (AEP, Exelon, National Grid): parses a
 * request's query, form or JSON body and cookies, and gives the handler answer helpers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One parsed request. */
export interface SiteRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  /** Form fields (urlencoded) or the JSON object posted; empty for GET. */
  body: Record<string, string>;
  cookie(name: string): string | undefined;
}

/** Answer helpers. */
export interface SiteResponse {
  json(status: number, body: unknown, headers?: http.OutgoingHttpHeaders): void;
  html(status: number, body: string, headers?: http.OutgoingHttpHeaders): void;
  redirect(location: string, headers?: http.OutgoingHttpHeaders): void;
}

/** A running fake site. */
export interface SiteServer {
  /** `http://127.0.0.1:port`. */
  url: string;
  stop(): Promise<void>;
}

/** Start `handle` on a free loopback port; a handler that throws answers 500. */
export async function startSiteServer(handle: (req: SiteRequest, res: SiteResponse) => void | Promise<void>): Promise<SiteServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      let body: Record<string, string> = {};
      if (text !== '') body = type.includes('json') ? (JSON.parse(text) as Record<string, string>) : Object.fromEntries(new URLSearchParams(text));
      const request: SiteRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', 'http://site'),
        headers: req.headers,
        body,
        cookie: (name) => new RegExp(`(?:^|;\\s*)${name.replace(/[.$]/g, '\\$&')}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1],
      };
      const response: SiteResponse = {
        json: (status, value, headers = {}) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
          res.end(JSON.stringify(value));
        },
        html: (status, page, headers = {}) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
          res.end(page);
        },
        redirect: (location, headers = {}) => {
          res.writeHead(302, { location, ...headers });
          res.end();
        },
      };
      Promise.resolve(handle(request, response)).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(error));
      });
    });
  });
  return listenLoopback(server);
}

/** Listen on a free loopback port; `stop()` drops open connections and closes. */
export async function listenLoopback(server: http.Server): Promise<SiteServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
