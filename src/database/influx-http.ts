/**
 * The two HTTP write APIs, both through the official client's transport (token auth, gzip,
 * timeouts): InfluxDB 2.x/3.x/Cloud and VictoriaMetrics on `/api/v2/write`, InfluxDB 1.x on
 * `/write`. A target sends one batch once; retries, splitting and spooling live in writer.ts.
 */
import { HttpError, InfluxDB, setLogger } from '@influxdata/influxdb-client';
import type { Target } from '../config.ts';
import { ConfigError, excerpt, parseRetryAfter } from '../errors.ts';

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

/** Sends one batch of lines to one bucket, once. */
export interface WriteTarget {
  /** For messages: API and host, never credentials. */
  readonly description: string;
  send(bucket: string, lines: readonly string[], signal?: AbortSignal): Promise<void>;
}

/** Options for {@link httpTarget}. */
export interface HttpTargetOptions {
  /** Per-request timeout; a server that never answers costs at most this. */
  timeoutMs?: number;
  /** Bodies above this many bytes are gzipped; `Infinity` turns compression off. */
  gzipThreshold?: number;
}

// The client logs failed writes to the console itself; our writer reports them once, redacted.
setLogger({ error: () => {}, warn: () => {} });

function toWriteError(error: unknown): unknown {
  if (!(error instanceof HttpError)) return error;
  const headers = (error.headers ?? {}) as { [name: string]: string | string[] | undefined };
  const retryHeader = headers['retry-after'];
  const body = error.body ?? '';
  let reason = body;
  try {
    const json = JSON.parse(body) as { message?: unknown; error?: unknown };
    reason = String(json.message ?? json.error ?? body);
  } catch {
    /* not JSON: keep the text */
  }
  return new WriteHttpError(error.statusCode, excerpt(reason || error.statusMessage || '', 500), parseRetryAfter(Array.isArray(retryHeader) ? retryHeader[0] : retryHeader));
}

/**
 * Run `fn` with a per-request signal that follows `signal`. The client's transport adds an
 * abort listener per request and never removes it; on a run-long signal those pile up.
 */
async function withRequestSignal<T>(signal: AbortSignal | undefined, fn: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (signal === undefined) return fn(undefined);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await fn(controller.signal);
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

function hostOf(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
}

/**
 * Whether `INFLUX_GZIP=auto` compresses for this URL: yes unless the host is this machine,
 * where compression costs CPU (the client's gzip level 6 halves loopback throughput into
 * VictoriaMetrics) and saves no bandwidth.
 */
export function gzipFor(url: string, setting: 'auto' | boolean): boolean {
  if (setting !== 'auto') return setting;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return !(host === 'localhost' || host === '::1' || /^127\./.test(host));
}

/** A write target for the configured InfluxDB (not the file store). */
export function httpTarget(target: Exclude<Target, { kind: 'file' }>, options: HttpTargetOptions = {}): WriteTarget {
  const timeout = options.timeoutMs ?? 30_000;
  const gzipThreshold = options.gzipThreshold ?? 1_000;
  const headers = { 'content-type': 'text/plain; charset=utf-8' };
  if (target.kind === 'v2') {
    const transport = new InfluxDB({ url: target.url, token: target.token, timeout }).transport;
    const org = target.org ? `&org=${encodeURIComponent(target.org)}` : '';
    return {
      description: `InfluxDB v2 API at ${hostOf(target.url)}`,
      async send(bucket, lines, signal) {
        // VictoriaMetrics ignores the bucket; `extra_label` keeps timescales apart there.
        const label = target.bucketLabel ? `&extra_label=${encodeURIComponent(`${target.bucketLabel}=${bucket}`)}` : '';
        const path = `/api/v2/write?bucket=${encodeURIComponent(bucket)}${org}${label}&precision=s`;
        try {
          await withRequestSignal(signal, (s) => transport.request(path, lines.join('\n'), { method: 'POST', headers, gzipThreshold, signal: s }));
        } catch (error) {
          const mapped = toWriteError(error);
          if (mapped instanceof WriteHttpError && mapped.status === 404) {
            throw new ConfigError(`bucket "${bucket}" was not found (${mapped.reason}); create the buckets with "npx tsx scripts/setup.ts"`);
          }
          throw mapped;
        }
      },
    };
  }
  const transport = new InfluxDB({ url: target.url, timeout }).transport;
  const auth: { [name: string]: string } =
    target.username !== undefined ? { authorization: `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}` } : {};
  const created = new Set<string>();
  const createDatabase = async (bucket: string, signal?: AbortSignal): Promise<void> => {
    const body = `q=${encodeURIComponent(`CREATE DATABASE "${bucket.replace(/"/g, '\\"')}"`)}`;
    await withRequestSignal(signal, (s) => transport.request('/query', body, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, signal: s }));
    created.add(bucket);
  };
  return {
    description: `InfluxDB v1 API at ${hostOf(target.url)}`,
    async send(bucket, lines, signal) {
      const path = `/write?db=${encodeURIComponent(bucket)}&precision=s`;
      const post = (): Promise<unknown> =>
        withRequestSignal(signal, (s) => transport.request(path, lines.join('\n'), { method: 'POST', headers: { ...headers, ...auth }, gzipThreshold, signal: s }));
      try {
        await post();
      } catch (error) {
        const mapped = toWriteError(error);
        // Like Telegraf: a missing database is created on first write, then the batch is sent again.
        if (mapped instanceof WriteHttpError && mapped.status === 404 && /database not found/i.test(mapped.reason) && !created.has(bucket)) {
          try {
            await createDatabase(bucket, signal);
          } catch (createError) {
            throw toWriteError(createError);
          }
          try {
            await post();
            return;
          } catch (retryError) {
            throw toWriteError(retryError);
          }
        }
        throw mapped;
      }
    },
  };
}
