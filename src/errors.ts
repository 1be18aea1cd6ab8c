/**
 * Error classes named by what the caller should do with them (DESIGN.md "Agents").
 * The run pipeline maps them to exit codes and messages in one place (src/cli.ts and src/run/pipeline.ts).
 */

/** A setting is missing or invalid: refuse to start (exit 2). Names the variable, never its value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    /** The environment variable or argument at fault, when there is one. */
    readonly variable?: string,
  ) {
    super(message);
  }
}

/** The source or database refused our credentials: stop this agent, do not retry. */
export class AuthError extends Error {
  override name = 'AuthError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A failure that may pass: retry with backoff, waiting at least `retryAfter` seconds if given. */
export class TransientError extends Error {
  override name = 'TransientError';
  constructor(
    message: string,
    readonly options: { retryAfter?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
  /** Seconds the source asked us to wait, if it said. */
  get retryAfter(): number | undefined {
    return this.options.retryAfter;
  }
  /** HTTP status, when the failure was an HTTP answer. */
  get status(): number | undefined {
    return this.options.status;
  }
}

/** The source answered something we cannot read; keeps an excerpt of the offending payload. */
export class SourceDataError extends Error {
  override name = 'SourceDataError';
  constructor(
    message: string,
    /** At most a few hundred characters of what the source sent. */
    readonly excerpt?: string,
  ) {
    super(excerpt === undefined ? message : `${message}; received: ${excerpt}`);
  }
}

/** Shorten a payload (text, or anything JSON can show) for an error message. */
export function excerpt(payload: unknown, max = 200): string {
  const text = typeof payload === 'string' ? payload : (JSON.stringify(payload) ?? String(payload));
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Parse a Retry-After header (seconds or HTTP date) into seconds; undefined when absent or bad. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/** The message of anything thrown, without a stack trace. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
