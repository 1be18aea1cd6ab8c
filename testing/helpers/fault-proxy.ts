/**
 * An HTTP reverse proxy in front of a real server that injects failures on request:
 * throttling (429/503 with Retry-After), other status codes, 413 for big bodies, connection
 * resets, hangs and a "server down" mode. Everything else is forwarded unchanged — method,
 * path and query, headers (including `Content-Encoding: gzip`) and the raw body — so the
 * code under test talks to the real database through it.
 *
 * Every request is recorded with its arrival time, so a test can check that a client waited
 * for Retry-After before retrying.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Which requests a fault applies to. */
export interface FaultMatch {
  /** Only requests whose path (with query) starts with this, e.g. `/api/v2/write`. */
  path?: string;
  /** Only this method, e.g. `POST`. */
  method?: string;
}

/** How many matching requests a one-shot fault applies to (default 1). */
export interface FaultTimes {
  times?: number;
}

/**
 * A failure to inject. `status`, `reset` and `hang` apply to the next `times` matching
 * requests, in the order planned; `tooLarge` and `down` stay until `clear()`.
 */
export type Fault =
  | ({
      kind: 'status';
      status: number;
      /** Sent as the `Retry-After` header (seconds, or an HTTP date string). */
      retryAfter?: number | string;
      /** Response body; default an InfluxDB-style `{"code","message"}` JSON. */
      body?: string;
      headers?: Record<string, string>;
    } & FaultMatch &
      FaultTimes)
  /** 413 when the request body **as sent on the wire** (gzip-compressed if it was) exceeds `maxBytes`. */
  | ({ kind: 'tooLarge'; maxBytes: number } & FaultMatch)
  /** Read the request, then destroy the socket without answering (client: ECONNRESET / socket hang up). */
  | ({ kind: 'reset' } & FaultMatch & FaultTimes)
  /** Read the request and never answer (until `stop()`); tests client timeouts. */
  | ({ kind: 'hang' } & FaultMatch & FaultTimes)
  /** Like `reset`, for every matching request until `clear()`. */
  | ({ kind: 'down' } & FaultMatch);

/** One request seen by the proxy. */
export interface ProxiedRequest {
  method: string;
  /** Path with query string, as received. */
  path: string;
  /** Status answered (by the fault or the real server); 0 while pending or when never answered. */
  status: number;
  /** Arrival time, `Date.now()` ms. */
  time: number;
  /** When its answer was sent (`Date.now()` ms); 0 while pending or when never answered. */
  done: number;
  /** Raw body size in bytes (compressed if the client compressed it). */
  bytes: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The fault applied, if any. */
  fault?: Fault['kind'];
}

/** A running fault proxy. */
export interface FaultProxy {
  /** Base URL to give the code under test instead of the real server's. */
  url: string;
  /** Every request so far, in arrival order. Empty it with `requests.length = 0`. */
  requests: ProxiedRequest[];
  /** Queue a fault (one-shot kinds) or switch one on (`tooLarge`, `down`). */
  plan(fault: Fault): void;
  /** Remove every planned and persistent fault; recorded requests stay. */
  clear(): void;
  /** Close the proxy, dropping hung and open connections. */
  stop(): Promise<void>;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];

/** InfluxDB 2 error codes, so clients that parse the body see something familiar. */
const INFLUX_CODES: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not found',
  413: 'request too large',
  429: 'too many requests',
  500: 'internal error',
  503: 'unavailable',
};

function matches(fault: FaultMatch, req: http.IncomingMessage): boolean {
  return (
    (fault.path === undefined || (req.url ?? '').startsWith(fault.path)) &&
    (fault.method === undefined || fault.method.toUpperCase() === req.method)
  );
}

function withoutHopByHop(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const copy: http.OutgoingHttpHeaders = { ...headers };
  for (const name of HOP_BY_HOP) delete copy[name];
  return copy;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Start a proxy on a free loopback port that forwards to `targetUrl` (which may carry a
 * base path) unless a planned fault applies.
 *
 * @example
 *   const proxy = await startFaultProxy(inject('influxV1Url'));
 *   proxy.plan({ kind: 'status', status: 429, retryAfter: 2, path: '/write' });
 *   // first write gets 429 with Retry-After: 2, the retry reaches InfluxDB
 */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  if (target.protocol !== 'http:') throw new Error(`fault-proxy: expected an http:// target, got ${targetUrl}`);
  const basePath = target.pathname.replace(/\/$/, '');
  const requests: ProxiedRequest[] = [];
  let queued: Array<Fault & { remaining: number }> = [];
  let persistent: Fault[] = [];

  const pick = (req: http.IncomingMessage, bytes: number): Fault | undefined => {
    const down = persistent.find((fault) => fault.kind === 'down' && matches(fault, req));
    if (down) return down;
    const tooLarge = persistent.find(
      (fault) => fault.kind === 'tooLarge' && matches(fault, req) && bytes > fault.maxBytes,
    );
    if (tooLarge) return tooLarge;
    const next = queued.find((fault) => fault.remaining > 0 && matches(fault, req));
    if (!next) return undefined;
    next.remaining -= 1;
    queued = queued.filter((fault) => fault.remaining > 0);
    return next;
  };

  const answer = (
    res: http.ServerResponse,
    record: ProxiedRequest,
    status: number,
    headers: http.OutgoingHttpHeaders,
    body: string,
  ): void => {
    record.status = status;
    res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body, () => (record.done = Date.now()));
  };

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, record: ProxiedRequest): void => {
    const headers = withoutHopByHop(req.headers);
    headers.host = target.host;
    if (body.length > 0 || req.headers['content-length'] !== undefined) headers['content-length'] = body.length;
    const upstream = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: basePath + (req.url ?? '/'),
        headers,
        agent: false, // one connection per request: nothing pooled survives stop()
      },
      (upstreamRes) => {
        record.status = upstreamRes.statusCode ?? 0;
        res.writeHead(record.status, withoutHopByHop(upstreamRes.headers));
        res.on('finish', () => (record.done = Date.now()));
        upstreamRes.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy(error);
        return;
      }
      const message = `fault-proxy: upstream ${target.host}: ${error.message}`;
      answer(res, record, 502, { 'content-type': 'text/plain' }, message);
    });
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    const record: ProxiedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: 0,
      time: Date.now(),
      done: 0,
      bytes: 0,
      headers: req.headers,
      body: Buffer.alloc(0),
    };
    requests.push(record);
    readBody(req).then(
      (body) => {
        record.body = body;
        record.bytes = body.length;
        const fault = pick(req, body.length);
        if (fault) record.fault = fault.kind;
        switch (fault?.kind) {
          case undefined:
            forward(req, res, body, record);
            return;
          case 'reset':
          case 'down':
            req.socket.destroy();
            return;
          case 'hang':
            return; // keep the socket open; stop() drops it
          case 'tooLarge':
            answer(
              res,
              record,
              413,
              { 'content-type': 'application/json' },
              JSON.stringify({
                code: INFLUX_CODES[413],
                message: `fault-proxy: request body of ${body.length} bytes is over the limit of ${fault.maxBytes}`,
                maxLength: fault.maxBytes,
              }),
            );
            return;
          case 'status': {
            const headers: http.OutgoingHttpHeaders = { ...fault.headers };
            if (fault.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
            let text = fault.body;
            if (text === undefined) {
              headers['content-type'] ??= 'application/json';
              text = JSON.stringify({
                code: INFLUX_CODES[fault.status] ?? 'error',
                message: `fault-proxy: injected ${fault.status}`,
              });
            }
            answer(res, record, fault.status, headers, text);
            return;
          }
        }
      },
      () => req.socket.destroy(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    plan(fault) {
      if (fault.kind === 'down' || fault.kind === 'tooLarge') {
        persistent.push(fault);
      } else {
        const times = fault.times ?? 1;
        if (!Number.isInteger(times) || times < 1) {
          throw new Error(`fault-proxy: times must be a positive integer, got ${String(fault.times)}`);
        }
        queued.push({ ...fault, remaining: times });
      }
    },
    clear() {
      queued = [];
      persistent = [];
    },
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopping;
    },
  };
}
