/**
 * The HTTP receiver a station uploads to: Ecowitt's form POST (and Ambient's GET with the same
 * fields) and the Weather Underground GET. It checks the credentials, parses the fields, and
 * hands each accepted reading on; everything else is answered with a 4xx and counted, never
 * logged with its credentials.
 *
 * Bounded against a flood: bodies over 16 KiB are refused (413), requests must finish within
 * 10 s, and the caller bounds what it keeps.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { BadFieldError, parseUpload, type Protocol, type StationReading } from './parse.ts';
import type { StationSettings } from './settings.ts';

const MAX_BODY = 16 * 1024;

/** Why uploads were refused, counted. */
export type Refusal = 'credentials' | 'bad field' | 'too large' | 'not found';

/** What the receiver reports. */
export interface ReceiverEvents {
  reading(protocol: Protocol, reading: StationReading, receivedMs: number): void;
  refused(why: Refusal, detail?: string): void;
}

function same(given: string | null, expected: string | undefined): boolean {
  if (given === null || expected === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Start listening; resolves with the server once it is bound. */
export async function startReceiver(settings: StationSettings, events: ReceiverEvents): Promise<http.Server> {
  const answer = (res: http.ServerResponse, status: number, body = ''): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(body);
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://station');
      let protocol: Protocol;
      let fields: URLSearchParams;
      if (req.method === 'GET' && url.pathname.endsWith('/updateweatherstation.php')) {
        protocol = 'wunderground';
        fields = url.searchParams;
        if (!same(fields.get('ID'), settings.id) || !same(fields.get('PASSWORD'), settings.password)) {
          events.refused('credentials', 'Wunderground upload with a wrong ID or PASSWORD');
          return answer(res, 401, 'unauthorized\n');
        }
      } else if (req.method === 'POST' || (req.method === 'GET' && url.searchParams.has('PASSKEY'))) {
        protocol = 'ecowitt';
        const body = req.method === 'POST' ? await readBody(req) : url.search.slice(1);
        if (body === undefined) {
          events.refused('too large');
          return answer(res, 413, 'too large\n');
        }
        fields = new URLSearchParams(body);
        if (!same(fields.get('PASSKEY'), settings.passkey)) {
          events.refused('credentials', 'Ecowitt upload with a wrong or missing PASSKEY');
          return answer(res, 403, 'forbidden\n');
        }
      } else {
        events.refused('not found');
        return answer(res, 404, 'not found\n');
      }
      let reading: StationReading;
      try {
        reading = parseUpload(protocol, fields);
      } catch (error) {
        if (!(error instanceof BadFieldError)) throw error;
        events.refused('bad field', error.message);
        return answer(res, 400, `${error.message}\n`);
      }
      events.reading(protocol, reading, Date.now());
      answer(res, 200, protocol === 'wunderground' ? 'success\n' : '');
    })().catch(() => answer(res, 500, 'error\n'));
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.listen.port, settings.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
