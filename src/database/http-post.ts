/**
 * One write request with a body of bytes: the lines of a batch are encoded once into one
 * Buffer and sent as is — no joined string handed to a transport that encodes it again — over
 * keep-alive connections, with gzip (when asked) done by zlib on libuv's thread pool, off the
 * main thread. Answers of 300 and above become {@link WriteHttpError} with the server's reason
 * and Retry-After; timeouts and socket errors are thrown as they are (the writer retries them).
 */
import http from 'node:http';
import https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { excerpt, parseRetryAfter } from '../errors.ts';

const gzipAsync = promisify(gzip);

/** The server answered a write with an error status. */
export class WriteHttpError extends Error {
  override name = 'WriteHttpError';
  constructor(
    readonly status: number,
    /** The server's own explanation (JSON `message`/`error` or text), shortened. */
    readonly reason: string,
    /** Seconds from a Retry-After header. */
    readonly retryAfter?: number,
  ) {
    super(`HTTP ${status}: ${reason}`);
  }
}

/** The request timed out (no answer within the timeout). */
export class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
  constructor() {
    super('Request timed out');
  }
}

// Keep-alive agents: a backfill's hundreds of batches reuse a few connections.
const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 8 }), https: new https.Agent({ keepAlive: true, maxSockets: 8 }) };

/**
 * Lines → one UTF-8 Buffer, `\n` between them, in one allocation when they are ASCII (nearly
 * always: our own encoder's output). Four spare bytes guarantee that a line with a non-ASCII
 * character writes more bytes than it has characters wherever it stands, which is how one is
 * noticed; the batch is then encoded the general way.
 */
export function encodeLines(lines: readonly string[]): Buffer {
  let chars = lines.length > 0 ? lines.length - 1 : 0;
  for (const line of lines) chars += line.length;
  const buffer = Buffer.allocUnsafe(chars + 4);
  let offset = 0;
  for (let i = 0; i < lines.length; i++) {
    if (i > 0) buffer[offset++] = 10;
    const line = lines[i]!;
    const written = buffer.write(line, offset, 'utf8');
    if (written !== line.length) return Buffer.from(lines.join('\n'), 'utf8');
    offset += written;
  }
  return buffer.subarray(0, offset);
}

/** Parse an error answer's body into the server's reason. */
function reasonOf(body: string, statusMessage: string | undefined): string {
  let reason = body;
  try {
    const json = JSON.parse(body) as { message?: unknown; error?: unknown };
    reason = String(json.message ?? json.error ?? body);
  } catch {
    /* not JSON: keep the text */
  }
  return excerpt(reason || statusMessage || '', 500);
}

/** Options of one POST. */
export interface PostOptions {
  headers: { [name: string]: string };
  timeoutMs: number;
  /** Compress bodies larger than this many bytes (Infinity: never). */
  gzipThreshold: number;
  signal?: AbortSignal;
}

/** POST `body` to `base` + `path`; resolves on a 2xx answer. */
export async function postBody(base: string, path: string, body: Buffer, options: PostOptions): Promise<void> {
  // `path` goes after the base URL's own path (InfluxDB behind a reverse proxy's prefix).
  const url = new URL(base);
  const [pathname = '', query] = path.split('?');
  url.pathname = `${url.pathname.replace(/\/$/, '')}${pathname}`;
  url.search = query === undefined ? '' : `?${query}`;
  const headers: { [name: string]: string } = { ...options.headers };
  let payload = body;
  if (body.length > options.gzipThreshold) {
    payload = await gzipAsync(body);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(payload.length);
  const secure = url.protocol === 'https:';
  await new Promise<void>((resolve, reject) => {
    const request = (secure ? https : http).request(url, { method: 'POST', headers, agent: secure ? agents.https : agents.http, signal: options.signal }, (response) => {
      const status = response.statusCode ?? 600;
      if (status < 300) {
        response.resume();
        response.on('end', resolve);
        response.on('error', reject);
        return;
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.length < 64 && chunks.push(chunk));
      response.on('end', () => {
        const retry = response.headers['retry-after'];
        reject(new WriteHttpError(status, reasonOf(Buffer.concat(chunks).toString('utf8'), response.statusMessage), parseRetryAfter(Array.isArray(retry) ? retry[0] : retry)));
      });
      response.on('error', reject);
    });
    request.setTimeout(options.timeoutMs, () => request.destroy(new RequestTimeoutError()));
    request.on('error', reject);
    request.end(payload);
  });
}
