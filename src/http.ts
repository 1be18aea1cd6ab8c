/**
 * HTTP plumbing the agents share: the per-request signal, reading bodies with a size limit (a
 * portal or device that answers a 200 MB page or an endless stream is refused past the limit,
 * not buffered until memory runs out), and turning what a request threw or answered into the
 * error classes the pipeline acts on. Messages stay with the callers: each names its source.
 */
import { setMaxListeners } from 'node:events';
import { AuthError, ConfigError, parseRetryAfter, SourceDataError, TransientError } from './errors.ts';

/** Default largest body a source may send: far above any real payload (a year of hourly JSON is ~2 MB). */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The body as text, refused with a {@link SourceDataError} naming `source` past `maxBytes`. */
export async function readText(response: Response, options: { source: string; maxBytes?: number; timeoutSeconds?: number; runSignal?: AbortSignal }): Promise<string> {
  const max = options.maxBytes ?? MAX_BODY_BYTES;
  const declared = Number(response.headers.get('content-length'));
  const refuse = (): never => {
    throw new SourceDataError(`${options.source}: the response is larger than ${Math.round(max / 2 ** 20)} MiB; refused`);
  };
  if (Number.isFinite(declared) && declared > max) {
    await response.body?.cancel().catch(() => {});
    refuse();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      // The request's timeout can fire while the body is still arriving (a trickling server):
      // that is as transient as a timeout before the headers, whichever caller reads the body.
      // undici reports it as an AbortError without a reason, so: aborted, but not by the run.
      const name = error instanceof Error ? error.name : '';
      if ((name === 'TimeoutError' || name === 'AbortError') && !options.runSignal?.aborted) {
        const within = options.timeoutSeconds === undefined ? 'in time' : `within ${options.timeoutSeconds} s`;
        throw new TransientError(`${options.source} did not answer ${within} (HOMEFLUX_HTTP_TIMEOUT)`, { cause: error });
      }
      throw error;
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      refuse();
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

/** The signal to give one request, and what it combines, to tell afterwards why it was aborted. */
export interface RequestSignal {
  /** Pass this to fetch: aborts when `parent` does or when `timeout` fires. */
  signal: AbortSignal;
  /** Fires after the per-request timeout (`HOMEFLUX_HTTP_TIMEOUT`). */
  timeout: AbortSignal;
  /** The caller's signal: aborted when the run is interrupted. */
  parent?: AbortSignal;
}

/**
 * A signal for one request. The timeout is per request, not per run: a backfill of many
 * requests may take long, but no single source may hang it.
 *
 * Built by hand rather than with `AbortSignal.any([parent, AbortSignal.timeout()])`: on Node 20
 * a combined signal that nothing else references can be garbage-collected while fetch still
 * reads the body, and then its timeout never fires (a trickling server hung a run forever; see
 * test/hardening/hostile-sources.test.ts). Here the timer holds the controller until it fires.
 */
export function requestSignal(timeoutMs: number, parent?: AbortSignal): RequestSignal {
  const controller = new AbortController();
  const timeout = new AbortController();
  const onParent = (): void => {
    clearTimeout(timer);
    controller.abort(parent!.reason);
  };
  const timer = setTimeout(() => {
    parent?.removeEventListener('abort', onParent);
    const reason = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    timeout.abort(reason);
    controller.abort(reason);
  }, timeoutMs);
  // A finished request's timer must not keep the process alive; it still holds its closure.
  timer.unref();
  if (parent?.aborted) onParent();
  else if (parent) {
    // Every request in flight (and finished ones, until their timer fires) listens to the run's
    // signal: lift Node's leak warning at 10 listeners for this one signal.
    setMaxListeners(0, parent);
    parent.addEventListener('abort', onParent, { once: true });
  }
  return { signal: controller.signal, timeout: timeout.signal, parent };
}

/**
 * What to throw for an error raised while sending a request or reading its answer.
 *
 * Passed through unchanged: homeflux's own errors (readText's size refusal, a sign-in's
 * AuthError), which already say what happened, and an abort of the caller's signal (an
 * interrupted run must stop, not retry). A timeout or a network failure may pass: it becomes a
 * {@link TransientError} with the message `describe` gives and the original as its cause.
 * Without `request`, the error's name (`AbortError`, `TimeoutError`) tells the two aborts apart.
 */
export function requestError(error: unknown, describe: (failure: 'timeout' | 'network') => string, request?: RequestSignal): unknown {
  if (error instanceof AuthError || error instanceof TransientError || error instanceof SourceDataError || error instanceof ConfigError) return error;
  const name = error instanceof Error ? error.name : '';
  if (request?.parent?.aborted || name === 'AbortError') return error;
  const failure = request?.timeout.aborted || name === 'TimeoutError' ? 'timeout' : 'network';
  return new TransientError(describe(failure), { cause: error });
}

/** True for answers that may pass with time: rate limiting (429) and server errors (5xx). */
export function isTransientStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** A {@link TransientError} for an answer that may pass, keeping its status and `Retry-After` so the retry waits as asked. */
export function transientAnswer(message: string, response: Response): TransientError {
  return new TransientError(message, { status: response.status, retryAfter: parseRetryAfter(response.headers.get('retry-after')) });
}

/**
 * True when a body where JSON was expected is a page instead (maintenance, a login redirect, a
 * proxy's error page): it starts with markup, or the content type says HTML.
 */
export function looksLikeHtml(body: string, contentType?: string | null): boolean {
  return /^\s*</.test(body) || (contentType !== undefined && contentType !== null && /html/i.test(contentType));
}
