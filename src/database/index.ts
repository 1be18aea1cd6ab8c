/**
 * Opening the configured sink: the file store when `INFLUX_URL` is unset, otherwise the
 * retrying writer in front of the v1 or v2 write API, with the spool.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { FileStore } from './file-store.ts';
import { gzipFor, httpTarget } from './influx-http.ts';
import type { Sink } from './sink.ts';
import { Spool } from './spool.ts';
import { HttpWriter, type RetryPolicy } from './writer.ts';

export type { Sink, WriteSummary } from './sink.ts';

/** Options for {@link openSink}. */
export interface OpenSinkOptions {
  log: Logger;
  signal?: AbortSignal;
  retry?: Partial<RetryPolicy>;
  timeoutMs?: number;
}

/** The sink the configuration names. */
export function openSink(config: Config, options: OpenSinkOptions): Sink {
  if (config.target.kind === 'file') return new FileStore(config.target.dataDir);
  const gzipThreshold = gzipFor(config.target.url, config.gzip) ? 1_000 : Number.POSITIVE_INFINITY;
  return new HttpWriter(httpTarget(config.target, { timeoutMs: options.timeoutMs, gzipThreshold }), {
    spool: new Spool(config.spoolDir, { maxBytes: config.spoolMaxBytes }),
    log: options.log,
    retry: options.retry,
    signal: options.signal,
  });
}
