/**
 * The two HTTP write APIs: InfluxDB 2.x/3.x/Cloud and VictoriaMetrics on `/api/v2/write`,
 * InfluxDB 1.x on `/write`. A target sends one batch once, as bytes (http-post.ts: encoded
 * once, gzip off the main thread); retries, splitting and spooling live in writer.ts.
 */
import type { Target } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { encodeLines, postBody, WriteHttpError } from './http-post.ts';

export { WriteHttpError } from './http-post.ts';

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

/**
 * Run `fn` with a per-request signal that follows `signal`, so that no listener is left on a
 * run-long signal however many requests it covers.
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
  const timeoutMs = options.timeoutMs ?? 30_000;
  const gzipThreshold = options.gzipThreshold ?? 1_000;
  const text = { 'content-type': 'text/plain; charset=utf-8' };
  if (target.kind === 'v2') {
    const org = target.org ? `&org=${encodeURIComponent(target.org)}` : '';
    // No token (VictoriaMetrics without auth): no Authorization header at all.
    const headers = target.token === undefined ? text : { ...text, authorization: `Token ${target.token}` };
    return {
      description: `InfluxDB v2 API at ${hostOf(target.url)}`,
      async send(bucket, lines, signal) {
        // VictoriaMetrics ignores the bucket; `extra_label` keeps timescales apart there.
        const label = target.bucketLabel ? `&extra_label=${encodeURIComponent(`${target.bucketLabel}=${bucket}`)}` : '';
        const path = `/api/v2/write?bucket=${encodeURIComponent(bucket)}${org}${label}&precision=s`;
        try {
          await withRequestSignal(signal, (s) => postBody(target.url, path, encodeLines(lines), { headers, timeoutMs, gzipThreshold, signal: s }));
        } catch (error) {
          if (error instanceof WriteHttpError && error.status === 404) {
            throw new ConfigError(`bucket "${bucket}" was not found (${error.reason}); create the buckets with "npx tsx scripts/setup.ts"`);
          }
          throw error;
        }
      },
    };
  }
  const auth: { [name: string]: string } =
    target.username !== undefined ? { authorization: `Basic ${Buffer.from(`${target.username}:${target.password ?? ''}`).toString('base64')}` } : {};
  // One CREATE DATABASE per bucket, shared: several batches in flight can meet the missing
  // database at once, and each must wait for the same creation before sending again.
  const creating = new Map<string, Promise<void>>();
  const createDatabase = (bucket: string, signal?: AbortSignal): Promise<void> => {
    let pending = creating.get(bucket);
    if (pending === undefined) {
      const body = Buffer.from(`q=${encodeURIComponent(`CREATE DATABASE "${bucket.replace(/"/g, '\\"')}"`)}`);
      pending = withRequestSignal(signal, (s) => postBody(target.url, '/query', body, { headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, timeoutMs, gzipThreshold: Number.POSITIVE_INFINITY, signal: s }));
      // A failed creation may be tried again by a later batch.
      pending.catch(() => creating.delete(bucket));
      creating.set(bucket, pending);
    }
    return pending;
  };
  return {
    description: `InfluxDB v1 API at ${hostOf(target.url)}`,
    async send(bucket, lines, signal) {
      const path = `/write?db=${encodeURIComponent(bucket)}&precision=s`;
      const body = encodeLines(lines);
      const post = (): Promise<void> => withRequestSignal(signal, (s) => postBody(target.url, path, body, { headers: { ...text, ...auth }, timeoutMs, gzipThreshold, signal: s }));
      try {
        await post();
      } catch (error) {
        // Like Telegraf: a missing database is created on first write, then the batch is sent again.
        if (error instanceof WriteHttpError && error.status === 404 && /database not found/i.test(error.reason)) {
          await createDatabase(bucket, signal);
          await post();
          return;
        }
        throw error;
      }
    },
  };
}
