/**
 * The writer owns delivery (DESIGN.md "Write semantics"): batches of ≤ 5,000 lines; 429/503
 * wait Retry-After, other 5xx and network errors back off with jitter, all within one bounded
 * retry budget per run; 413 splits the batch; 400/422 bisect to the bad lines, which go to
 * `spool/rejected/` with the server's reason; 401/403 stop at once. Whatever is not written is
 * spooled, and the next run replays the spool first. Re-sending is harmless because InfluxDB
 * overwrites a point with the same series and time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { AuthError, ConfigError, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import { type WriteTarget, WriteHttpError } from './influx-http.ts';
import { addSummary, emptySummary, type Sink, type WriteSummary } from './sink.ts';
import type { RejectedLine, Spool } from './spool.ts';

/** How long and how often to retry. */
export interface RetryPolicy {
  /** Total time the run may spend waiting on retries; after that everything is spooled. */
  maxRetryMs: number;
  /** First backoff delay; doubles each attempt with jitter. */
  initialDelayMs: number;
  /** Cap on one backoff delay. */
  maxDelayMs: number;
}

/** Defaults suit an hourly job: a minute of patience, then spool for the next run. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetryMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 15_000 };

/** Options for {@link HttpWriter}. */
export interface WriterOptions {
  spool: Spool;
  log: Logger;
  retry?: Partial<RetryPolicy>;
  /** Lines per request; the design caps it at 5,000. */
  batchSize?: number;
  /** Requests in flight at once (default 4: the server ingests some while the next is encoded and sent; 1 keeps strict order). */
  concurrency?: number;
  signal?: AbortSignal;
}

/** The retry budget ran out or the database is unusable; remaining lines are spooled. */
class StopWriting extends Error {}

interface Delivery {
  written: number;
  rejected: RejectedLine[];
  unwritten: string[];
}

/** A {@link Sink} that writes to InfluxDB through a {@link WriteTarget}. */
export class HttpWriter implements Sink {
  readonly description: string;
  private readonly retry: RetryPolicy;
  private readonly batchSize: number;
  private readonly concurrency: number;
  private deadline: number | undefined;
  private stopped: string | undefined;

  constructor(
    private readonly target: WriteTarget,
    private readonly options: WriterOptions,
  ) {
    this.description = target.description;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.batchSize = Math.min(options.batchSize ?? 5_000, 5_000);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Why writing stopped, if it did (auth refused, retry budget spent). */
  get failure(): string | undefined {
    return this.stopped;
  }

  async write(bucket: string, lines: readonly string[]): Promise<WriteSummary> {
    return this.writeStream(bucket, lines);
  }

  /**
   * Write lines as they come — an array, or a generator producing millions of them (a
   * backfill): they are cut into batches, and at most `concurrency` batches are in flight while
   * the next one fills, so memory holds a few batches, never the whole stream.
   */
  async writeStream(bucket: string, lines: Iterable<string> | AsyncIterable<string>): Promise<WriteSummary> {
    const summary = emptySummary();
    const inFlight = new Set<Promise<void>>();
    let failed: unknown;
    const launch = async (batch: string[]): Promise<void> => {
      // A few batches in flight: one compresses and travels while the server ingests another.
      const sending = this.writeBatch(bucket, batch, summary).catch((error: unknown) => {
        failed ??= error;
      });
      const tracked = sending.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
      if (inFlight.size >= this.concurrency) await Promise.race(inFlight);
    };
    let batch: string[] = [];
    if (Symbol.iterator in lines) {
      for (const line of lines) {
        batch.push(line);
        if (batch.length === this.batchSize) {
          await launch(batch);
          batch = [];
        }
      }
    } else {
      for await (const line of lines) {
        batch.push(line);
        if (batch.length === this.batchSize) {
          await launch(batch);
          batch = [];
        }
      }
    }
    if (batch.length > 0) await launch(batch);
    await Promise.all(inFlight);
    if (failed !== undefined) throw failed;
    if (this.stopped !== undefined) summary.failure = this.stopped;
    return summary;
  }

  /** Deliver one batch; what could not be written goes to the spool. */
  private async writeBatch(bucket: string, lines: string[], summary: WriteSummary): Promise<void> {
    const delivery = await this.deliver(bucket, lines);
    addSummary(summary, await this.settle(bucket, delivery));
    if (delivery.unwritten.length === 0) return;
    const added = await this.options.spool.add(bucket, delivery.unwritten);
    summary.spooled += delivery.unwritten.length;
    if (added.dropped) {
      const { count, from, to } = added.dropped;
      const iso = (t: number): string => new Date(t * 1000).toISOString();
      this.options.log.error(
        `spool full (HOMEFLUX_SPOOL_MAX_MB): dropped the ${count} oldest point(s) of ${bucket}, ${iso(from)} … ${iso(to)} — once the database is back, collect that range again with scripts/backfill.ts`,
      );
    }
  }

  async replay(): Promise<WriteSummary> {
    const summary = emptySummary();
    const spool = this.options.spool;
    for (const file of await spool.files()) {
      if (this.stopped !== undefined) break;
      const lines = await spool.read(file);
      const unwritten: string[] = [];
      for (let i = 0; i < lines.length; i += this.batchSize) {
        const delivery = await this.deliver(file.bucket, lines.slice(i, i + this.batchSize));
        addSummary(summary, await this.settle(file.bucket, delivery));
        unwritten.push(...delivery.unwritten);
      }
      // Only now is the file shortened or removed: a crash before this line replays it again,
      // which writes the same points again — harmless — and loses nothing.
      await spool.settle(file, unwritten);
      summary.spooled += unwritten.length;
      if (unwritten.length > 0) this.options.log.debug(`replay: ${unwritten.length} lines stay in ${file.path}`);
    }
    if (this.stopped !== undefined) summary.failure = this.stopped;
    return summary;
  }

  async close(): Promise<void> {}

  private async settle(bucket: string, delivery: Delivery): Promise<WriteSummary> {
    if (delivery.rejected.length > 0) {
      // The reason is the server's text, which may echo the request (its token or Authorization
      // header); rejected/ is uploaded as an artifact, so it gets the same redaction as the log.
      const rejected = delivery.rejected.map((r) => ({ line: r.line, reason: this.options.log.redact(r.reason) }));
      const path = await this.options.spool.reject(bucket, rejected);
      this.options.log.warn(`${this.description} refused ${rejected.length} line(s) for ${bucket}: ${rejected[0]!.reason} — kept in ${path}`);
    }
    return { written: delivery.written, rejected: delivery.rejected.length, spooled: 0 };
  }

  /** Send lines, splitting on 413 and bisecting on 400/422; never throws for database trouble. */
  private async deliver(bucket: string, lines: string[]): Promise<Delivery> {
    if (this.stopped !== undefined || lines.length === 0) return { written: 0, rejected: [], unwritten: lines };
    try {
      await this.sendWithRetry(bucket, lines);
      return { written: lines.length, rejected: [], unwritten: [] };
    } catch (error) {
      if (error instanceof WriteHttpError && [400, 413, 422].includes(error.status)) {
        if (lines.length === 1) return { written: 0, rejected: [{ line: lines[0]!, reason: `HTTP ${error.status}: ${error.reason}` }], unwritten: [] };
        const middle = Math.ceil(lines.length / 2);
        const a = await this.deliver(bucket, lines.slice(0, middle));
        const b = await this.deliver(bucket, lines.slice(middle));
        return { written: a.written + b.written, rejected: [...a.rejected, ...b.rejected], unwritten: [...a.unwritten, ...b.unwritten] };
      }
      this.stopped = messageOf(error);
      this.options.log.error(this.stopped, 'write stopped');
      return { written: 0, rejected: [], unwritten: lines };
    }
  }

  private async sendWithRetry(bucket: string, lines: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.target.send(bucket, lines, this.options.signal);
        return;
      } catch (error) {
        if (error instanceof WriteHttpError) {
          if (error.status === 401 || error.status === 403) {
            throw new AuthError(`${this.target.description} refused the credentials (HTTP ${error.status}: ${error.reason}); check INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD`, error.status);
          }
          if ([400, 413, 422].includes(error.status)) throw error;
          if (error.status < 500 && error.status !== 429 && error.status !== 408) throw new StopWriting(`${this.target.description}: ${error.message}`);
        } else if (error instanceof ConfigError || error instanceof AuthError) {
          throw error;
        } else if (this.options.signal?.aborted) {
          throw new StopWriting(`writing to ${this.target.description} was interrupted`);
        }
        const wait = this.nextDelay(attempt, error);
        const now = Date.now();
        this.deadline ??= now + this.retry.maxRetryMs;
        if (now + wait > this.deadline) {
          throw new StopWriting(`${this.target.description} is unavailable (${describeFailure(error)}); gave up after the retry budget of ${Math.round(this.retry.maxRetryMs / 1000)} s`);
        }
        this.options.log.debug(`write to ${bucket} failed (${describeFailure(error)}); retry ${attempt + 1} in ${wait} ms`);
        try {
          await delay(wait, undefined, { signal: this.options.signal });
        } catch {
          throw new StopWriting(`writing to ${this.target.description} was interrupted`);
        }
      }
    }
  }

  private nextDelay(attempt: number, error: unknown): number {
    if (error instanceof WriteHttpError && error.retryAfter !== undefined) return Math.ceil(error.retryAfter * 1000);
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.initialDelayMs * 2 ** attempt);
    // Jitter between half and all of the ceiling, so many clients don't retry in step.
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof WriteHttpError) return `HTTP ${error.status}${error.retryAfter !== undefined ? `, Retry-After ${error.retryAfter}s` : ''}`;
  const code = (error as { code?: string }).code;
  return code ?? messageOf(error);
}
