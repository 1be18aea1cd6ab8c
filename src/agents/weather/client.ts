/**
 * One Open-Meteo HTTP request: URL, timeout, and the mapping of answers to error classes.
 *
 * - 200 with the expected JSON → the body;
 * - 400 (or any answer) with `{"error":true,"reason":…}` → {@link ConfigError} carrying the
 *   reason. Every parameter the agent sends comes from the settings (location, units) or the
 *   window the user asked for (`--since 1930-01-01` is refused with "Parameter 'start_date' is
 *   out of allowed range from 1940-01-01 to …"); retrying cannot help and the next chunk
 *   would be refused the same way, so the run stops and exits 2 asking the user to change it;
 * - 429 and 5xx, network errors, timeouts → `TransientError` (retried by the pipeline,
 *   honouring `Retry-After`);
 * - HTML, other non-JSON bodies and other statuses → {@link SourceDataError} with an excerpt.
 */
import { ConfigError, SourceDataError, excerpt } from '../../errors.ts';
import { isTransientStatus, looksLikeHtml, readText, requestError, requestSignal, transientAnswer } from '../../http.ts';
import { errorReason, type ResponseOrigin } from './parse.ts';

/** A request to one of the two APIs. */
export interface OpenMeteoRequest extends ResponseOrigin {
  /** Base URL without a trailing slash, e.g. `https://archive-api.open-meteo.com`. */
  baseUrl: string;
  params: Record<string, string>;
}

/** Options of {@link fetchOpenMeteo}. */
export interface FetchOptions {
  signal: AbortSignal;
  timeoutSeconds: number;
}

/** The full URL of a request (parameters in a stable order). */
export function requestUrl(request: OpenMeteoRequest): string {
  return `${request.baseUrl}${request.path}?${new URLSearchParams(request.params).toString()}`;
}

/** Send a request and return the parsed JSON body, or throw one of the classes above. */
export async function fetchOpenMeteo(request: OpenMeteoRequest, options: FetchOptions): Promise<unknown> {
  const what = `open-meteo ${request.api} API (${request.path})`;
  const signals = requestSignal(options.timeoutSeconds * 1000, options.signal);
  let response: Response;
  let text: string;
  try {
    response = await fetch(requestUrl(request), { signal: signals.signal, headers: { accept: 'application/json' } });
    text = await readText(response, { source: what, timeoutSeconds: options.timeoutSeconds, runSignal: options.signal });
  } catch (error) {
    throw requestError(
      error,
      (failure) =>
        failure === 'timeout'
          ? `${what} did not answer within ${options.timeoutSeconds} s (HOMEFLUX_HTTP_TIMEOUT)`
          : `${what}: request failed: ${error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error)}`,
      signals,
    );
  }
  const status = response.status;
  const type = response.headers.get('content-type') ?? '';
  let body: unknown;
  let json = false;
  if (!looksLikeHtml(text)) {
    try {
      body = JSON.parse(text);
      json = true;
    } catch {
      // reported below with the status and an excerpt
    }
  }
  const reason = json ? errorReason(body) : undefined;
  if (isTransientStatus(status)) {
    const detail = reason ?? (text.trim() === '' ? '' : excerpt(text, 120));
    throw transientAnswer(`${what} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, response);
  }
  if (reason !== undefined) throw new ConfigError(`${what} refused the request (HTTP ${status}): ${reason}`);
  if (!json) {
    const kind = looksLikeHtml(text, type) ? 'an HTML page' : `a non-JSON body (${type || 'no content type'})`;
    throw new SourceDataError(`${what} answered ${kind} with HTTP ${status} where JSON was expected`, excerpt(text));
  }
  if (status !== 200) throw new SourceDataError(`${what} answered HTTP ${status}, expected 200`, excerpt(text));
  return body;
}
