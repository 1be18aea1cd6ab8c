/**
 * An HTTP session with one Opower portal: cookies kept by fetch-cookie around the global
 * fetch, browser-like headers, sign-in through the utility's {@link LoginStrategy}, and the
 * portal's failure modes turned into the error classes the pipeline understands:
 *
 * - 401/403 in the middle of a run (the session expired) → sign in again once, then retry;
 *   concurrent requests share one re-sign-in;
 * - 429 → wait `Retry-After` (bounded) and retry a few times, then a TransientError;
 * - 5xx → TransientError (the pipeline retries the chunk);
 * - an HTML page where JSON was expected (maintenance, login redirect) → an error naming the
 *   path and the status, never a JSON parse stack trace.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { makeFetchCookie } from '../../deps.ts';
import { AuthError, excerpt, parseRetryAfter, SourceDataError, TransientError } from '../../errors.ts';
import { looksLikeHtml, readText, requestError, requestSignal, transientAnswer } from '../../http.ts';
import type { Logger } from '../../log.ts';
import { describeHtml, type LoginResult, type Utility } from './utilities.ts';

/** A desktop browser's User-Agent: some portals' edge filters refuse library defaults. */
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Options for {@link OpowerClient}. */
export interface OpowerClientOptions {
  utility: Utility;
  /** Portal origin without a trailing slash. */
  baseUrl: string;
  username: string;
  password: string;
  log: Logger;
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Longest single wait honoured for a 429 inside the client, in seconds (default 30). */
  maxRetryAfterSeconds?: number;
  /** Attempts per request when rate limited (default 3). */
  rateLimitAttempts?: number;
}

const JSON_ACCEPT = 'application/json, text/plain, */*';

/** A signed-in (lazily) session with one utility's portal. */
export class OpowerClient {
  /** HTTP requests sent so far, sign-ins included. */
  requests = 0;
  private readonly fetchWithCookies: (url: string, init?: RequestInit) => Promise<Response>;
  private readonly jar: InstanceType<typeof makeFetchCookie.toughCookie.CookieJar>;
  private extraHeaders: Record<string, string> = {};
  /** Bumped on every successful sign-in; a 401 seen under an older generation needs no new sign-in. */
  private generation = 0;
  private signingIn: Promise<void> | undefined;

  constructor(private readonly options: OpowerClientOptions) {
    this.jar = new makeFetchCookie.toughCookie.CookieJar();
    const wrapped = makeFetchCookie(fetch as never, this.jar as never) as unknown as (url: string, init?: RequestInit) => Promise<Response>;
    this.fetchWithCookies = (url, init = {}) => {
      this.requests++;
      const headers = new Headers(init.headers);
      headers.set('user-agent', BROWSER_USER_AGENT);
      if (!headers.has('accept')) headers.set('accept', JSON_ACCEPT);
      headers.set('accept-language', 'en-US,en;q=0.9');
      for (const [name, value] of Object.entries(this.extraHeaders)) headers.set(name, value);
      return wrapped(url, { ...init, headers, signal: requestSignal(this.options.timeoutMs, init.signal ?? undefined).signal });
    };
  }

  /** The utility this session belongs to. */
  get utility(): Utility {
    return this.options.utility;
  }

  /** Sign in (again); concurrent callers share one attempt. */
  async signIn(signal: AbortSignal): Promise<void> {
    if (this.signingIn) return this.signingIn;
    const seen = this.generation;
    this.signingIn = (async () => {
      const { utility, baseUrl, username, password, log } = this.options;
      log.debug(`opower.${utility.id}: signing in to ${utility.name} (${utility.login.kind})`);
      let result: LoginResult;
      try {
        result = await utility.login.login({ fetch: this.fetchWithCookies, baseUrl, utility, username, password, signal });
      } catch (error) {
        throw networkError(error, `sign-in to ${utility.name} (${utility.id})`);
      }
      this.extraHeaders = result.headers ?? {};
      for (const secret of result.secrets ?? []) log.mask(secret);
      for (const value of Object.values(this.extraHeaders)) log.mask(value.replace(/^Bearer\s+/i, ''));
      for (const cookie of await this.jar.getCookies(baseUrl)) log.mask(cookie.value);
      this.generation = seen + 1;
    })();
    try {
      await this.signingIn;
    } finally {
      this.signingIn = undefined;
    }
  }

  /**
   * GET `path` (with `query`) and parse JSON. Signs in first if needed; a 401/403 signs in
   * again once. Throws AuthError, TransientError or SourceDataError as described above.
   */
  async getJson(path: string, query: Record<string, string>, signal: AbortSignal): Promise<unknown> {
    if (this.generation === 0) await this.signIn(signal);
    const url = `${this.options.baseUrl}${path}?${new URLSearchParams(query)}`;
    const maxAttempts = this.options.rateLimitAttempts ?? 3;
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      const generation = this.generation;
      let response: Response;
      try {
        response = await this.fetchWithCookies(url, { signal });
      } catch (error) {
        throw networkError(error, `GET ${path}`);
      }
      const status = response.status;
      if ((status === 401 || status === 403) && !reauthenticated) {
        await response.body?.cancel();
        reauthenticated = true;
        this.options.log.debug(`opower.${this.utility.id}: GET ${path} answered ${status}; the session expired, signing in again`);
        // Someone else may already have signed in again since this request left.
        if (this.generation === generation) await this.signIn(signal);
        attempt--;
        continue;
      }
      if (status === 429) {
        await response.body?.cancel();
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        const cap = this.options.maxRetryAfterSeconds ?? 30;
        if (attempt < maxAttempts && (retryAfter ?? 1) <= cap) {
          const wait = retryAfter ?? Math.min(cap, 2 ** (attempt - 1));
          this.options.log.debug(`opower.${this.utility.id}: GET ${path} rate limited (HTTP 429); waiting ${wait} s`);
          await delay(wait * 1000, undefined, { signal });
          continue;
        }
        throw new TransientError(`${this.utility.name}: GET ${path} was rate limited (HTTP 429) ${attempt} time(s)`, { status, retryAfter });
      }
      return this.readJson(response, path, signal);
    }
  }

  private async readJson(response: Response, path: string, signal: AbortSignal): Promise<unknown> {
    const { status } = response;
    const text = await readText(response, { source: `${this.utility.name}: GET ${path}`, timeoutSeconds: this.options.timeoutMs / 1000, runSignal: signal });
    const where = `${this.utility.name} (${this.utility.id}): GET ${path} answered HTTP ${status}`;
    if (status === 401 || status === 403) {
      throw new AuthError(`${where} even after signing in again; the account may be locked or lack access`, status);
    }
    if (looksLikeHtml(text, response.headers.get('content-type'))) {
      const what = `${where}${describeHtml(text) || ' with an HTML page where JSON was expected (maintenance or a login page)'}`;
      if (status >= 500) throw transientAnswer(what, response);
      throw new SourceDataError(what);
    }
    if (status >= 500) throw transientAnswer(`${where}: ${excerpt(text, 120)}`, response);
    if (status !== 200) throw new SourceDataError(`${where}, expected 200`, excerpt(text));
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SourceDataError(`${where} with a body that is not JSON`, excerpt(text));
    }
  }
}

// The timeout lives inside the session's fetch, so the error's name tells it from the run's abort.
function networkError(error: unknown, what: string): unknown {
  return requestError(error, (failure) => {
    if (failure === 'timeout') return `${what} timed out`;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${what} failed${error instanceof Error ? `: ${error.message}` : ''}${cause}`;
  });
}
