/**
 * An HTTP session with one Opower portal: cookies kept by fetch-cookie around the global
 * fetch, browser-like headers, sign-in through the utility's {@link LoginStrategy}, and the
 * portal's failure modes turned into the error classes the pipeline understands:
 *
 * - 401/403, a redirect or an HTML page in the middle of a run (the session ended) → sign in
 *   again once, then retry; concurrent requests share one re-sign-in;
 * - a JSON 500 → {@link PortalServerError}: the agent splits the span or falls back;
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
import { isHeaderValue } from './signin/steps.ts';
import { describeHtml, type LoginResult, type SessionStore, type Utility } from './utilities.ts';

/** A desktop browser's User-Agent: some portals' edge filters refuse library defaults. */
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** Options for {@link OpowerClient}. */
export interface OpowerClientOptions {
  utility: Utility;
  /**
   * Portal origin without a trailing slash (`OPOWER_BASE_URL`); by default
   * `https://{subdomain}.opower.com`, with the subdomain the sign-in found when it finds one.
   */
  baseUrl?: string;
  /** The sign-in kept between runs, for families that refresh one. */
  session?: SessionStore;
  /** A person at a terminal, for `--login`. */
  ask?: (question: string) => Promise<string>;
  /** The utility's own sign-in site, when not its default (tests, proxies). */
  loginBaseUrl?: string;
  /** Authenticator secret (base32) for sign-ins asking a one-time code. */
  totpSecret?: string;
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
  private refused: AuthError | undefined;
  private portal: { subdomain: string; code: string };

  constructor(private readonly options: OpowerClientOptions) {
    this.portal = { subdomain: options.utility.subdomain, code: options.utility.code };
    this.jar = new makeFetchCookie.toughCookie.CookieJar();
    const wrapped = makeFetchCookie(fetch as never, this.jar as never) as unknown as (url: string, init?: RequestInit) => Promise<Response>;
    this.fetchWithCookies = (url, init = {}) => {
      this.requests++;
      const headers = new Headers(init.headers);
      headers.set('user-agent', BROWSER_USER_AGENT);
      if (!headers.has('accept')) headers.set('accept', JSON_ACCEPT);
      headers.set('accept-language', 'en-US,en;q=0.9');
      for (const [name, value] of Object.entries(this.options.utility.headers ?? {})) headers.set(name, value);
      for (const [name, value] of Object.entries(this.extraHeaders)) headers.set(name, value);
      return wrapped(url, { ...init, headers, signal: requestSignal(this.options.timeoutMs, init.signal ?? undefined).signal });
    };
  }

  /** The utility this session belongs to, with the portal (subdomain, code) the sign-in found. */
  get utility(): Utility {
    const { subdomain, code } = this.portal;
    const utility = this.options.utility;
    return subdomain === utility.subdomain && code === utility.code ? utility : { ...utility, subdomain, code };
  }

  /** Origin of the portal's API. */
  get baseUrl(): string {
    return this.options.baseUrl ?? `https://${this.portal.subdomain}.opower.com`;
  }

  /** Sign in unless signed in already (callers that need what the sign-in finds out, e.g. the utility code). */
  async ready(signal: AbortSignal): Promise<void> {
    if (this.generation === 0) await this.signIn(signal);
  }

  /** Sign in (again); concurrent callers share one attempt. */
  async signIn(signal: AbortSignal): Promise<void> {
    // Refused credentials stay refused: asking again would only bring an account lockout closer.
    if (this.refused) throw this.refused;
    if (this.signingIn) return this.signingIn;
    const seen = this.generation;
    this.signingIn = (async () => {
      const { utility, username, password, log, totpSecret, session, ask } = this.options;
      log.debug(`opower.${utility.id}: signing in to ${utility.name} (${utility.login.kind})`);
      let result: LoginResult;
      try {
        result = await utility.login.login({ fetch: this.fetchWithCookies, baseUrl: this.baseUrl, loginBaseUrl: this.options.loginBaseUrl ?? utility.loginBaseUrl, utility, username, password, totpSecret, session, ask, signal });
      } catch (error) {
        if (error instanceof AuthError) this.refused = error;
        throw networkError(error, `sign-in to ${utility.name} (${utility.id})`);
      }
      for (const [name, value] of Object.entries(result.headers ?? {})) {
        if (!isHeaderValue(value)) throw (this.refused = new AuthError(`sign-in to ${utility.name} (${utility.id}) gave a ${name} that cannot be sent in a header (the sign-in may have changed)`));
      }
      this.extraHeaders = result.headers ?? {};
      for (const secret of result.secrets ?? []) log.mask(secret);
      for (const value of Object.values(this.extraHeaders)) log.mask(value.replace(/^Bearer\s+/i, ''));
      // Every cookie of every host the sign-in visited (identity providers set their own).
      for (const cookie of (await this.jar.serialize()).cookies) if (typeof cookie.value === 'string' && cookie.value.length >= 6) log.mask(cookie.value);
      if (result.portal !== undefined) {
        this.portal = { subdomain: result.portal.subdomain, code: result.portal.code ?? result.portal.subdomain };
        log.debug(`opower.${utility.id}: the sign-in names the portal ${this.portal.subdomain}.opower.com (utility code ${this.portal.code})`);
      }
      this.generation = seen + 1;
    })();
    try {
      await this.signingIn;
    } finally {
      this.signingIn = undefined;
    }
  }

  /**
   * GET `path` (with `query`) and parse JSON; see {@link request}.
   * `headers` are sent with this request only (e.g. `Opower-Selected-Entities`).
   */
  async getJson(path: string, query: Record<string, string>, signal: AbortSignal, headers: Record<string, string> = {}): Promise<unknown> {
    const search = new URLSearchParams(query).toString();
    return this.request('GET', `${path}${search === '' ? '' : `?${search}`}`, path, signal, { headers });
  }

  /** POST `body` as JSON to `path` and parse the JSON answer (the GraphQL endpoint). */
  async postJson(path: string, body: unknown, signal: AbortSignal, headers: Record<string, string> = {}): Promise<unknown> {
    return this.request('POST', path, path, signal, { headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  /**
   * One authenticated request. Signs in first if needed. A session that ended shows as 401/403,
   * a redirect (to `/ei/app/403.html`, `/ei/x/error-response-code`) or an HTML page with status
   * 200 (PROTOCOL.md "Sign-in"): each signs in again once and retries; the same answer after
   * that is an AuthError naming the utility. Throws TransientError (429 that does not pass,
   * 5xx; a JSON 500 as {@link PortalServerError}) or SourceDataError as described above.
   */
  private async request(method: string, target: string, path: string, signal: AbortSignal, init: { headers: Record<string, string>; body?: string }): Promise<unknown> {
    if (this.generation === 0) await this.signIn(signal);
    const url = `${this.baseUrl}${target}`;
    const maxAttempts = this.options.rateLimitAttempts ?? 3;
    let reauthenticated = false;
    const where = (status: number): string => `${this.utility.name} (${this.utility.id}): ${method} ${path} answered HTTP ${status}`;
    for (let attempt = 1; ; attempt++) {
      const generation = this.generation;
      let response: Response;
      try {
        // Redirects are not followed: after sign-in, one only ever leads to a login or error page.
        response = await this.fetchWithCookies(url, { method, headers: init.headers, body: init.body, redirect: 'manual', signal });
      } catch (error) {
        throw networkError(error, `${method} ${path}`);
      }
      const status = response.status;
      // The body matters except for a refusal, a redirect or a rate limit: read it once.
      const bodyless = status === 401 || status === 403 || status === 429 || (status >= 300 && status < 400);
      if (bodyless) await response.body?.cancel();
      const text = bodyless ? undefined : await readText(response, { source: where(status), timeoutSeconds: this.options.timeoutMs / 1000, runSignal: signal });
      const expired = this.sessionEnded(response, text);
      if (expired !== undefined) {
        if (reauthenticated) {
          // An HTML page with 200 may be maintenance of one service: that request fails, the rest
          // of the run goes on. A 401/403 or a redirect means the session is refused: stop.
          if (status >= 200 && status < 300) throw new SourceDataError(`${where(status)}${expired}, even after signing in again (maintenance or a login page)`);
          throw new AuthError(`${where(status)}${expired} even after signing in again; the account may be locked or lack access to this data`, status);
        }
        reauthenticated = true;
        this.options.log.debug(`opower.${this.utility.id}: ${method} ${path} answered HTTP ${status}${expired}; the session ended, signing in again`);
        // Someone else may already have signed in again since this request left.
        if (this.generation === generation) await this.signIn(signal);
        attempt--;
        continue;
      }
      if (status === 429) {
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        const cap = this.options.maxRetryAfterSeconds ?? 30;
        if (attempt < maxAttempts && (retryAfter ?? 1) <= cap) {
          const wait = retryAfter ?? Math.min(cap, 2 ** (attempt - 1));
          this.options.log.debug(`opower.${this.utility.id}: ${method} ${path} rate limited (HTTP 429); waiting ${wait} s`);
          await delay(wait * 1000, undefined, { signal });
          continue;
        }
        throw new TransientError(`${this.utility.name}: ${method} ${path} was rate limited (HTTP 429) ${attempt} time(s)`, { status, retryAfter });
      }
      return parseAnswer(response, where(status), text!);
    }
  }

  // Whether an answer means "the session ended" — 401/403, a redirect, or a 2xx HTML page — and
  // how to say so; undefined when it does not.
  private sessionEnded(response: Response, text: string | undefined): string | undefined {
    const { status } = response;
    if (status === 401 || status === 403) return '';
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      return ` (a redirect to ${location === null ? 'nowhere' : excerpt(new URL(location, this.baseUrl).pathname, 80)})`;
    }
    if (status >= 200 && status < 300 && text !== undefined && looksLikeHtml(text, response.headers.get('content-type'))) return describeHtml(text) || ' with an HTML page where JSON was expected';
    return undefined;
  }
}

// The JSON of an answer, or the error its status and body mean.
function parseAnswer(response: Response, where: string, text: string): unknown {
  const { status } = response;
  if (looksLikeHtml(text, response.headers.get('content-type'))) {
    const what = `${where}${describeHtml(text) || ' with an HTML page where JSON was expected (maintenance or a login page)'}`;
    if (status >= 500) throw transientAnswer(what, response);
    throw new SourceDataError(what);
  }
  // A JSON 500 is the portal's answer about this request (a span before the data starts, an
  // account without cost data: PROTOCOL.md), not an outage: the agent decides what it means.
  if (status === 500) throw new PortalServerError(`${where}: ${excerpt(text, 160)}`, excerpt(text, 300));
  if (status >= 500) throw transientAnswer(`${where}: ${excerpt(text, 120)}`, response);
  if (status !== 200) throw new SourceDataError(`${where}, expected 200`, excerpt(text));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SourceDataError(`${where} with a body that is not JSON`, excerpt(text));
  }
}

/** The portal answered HTTP 500 with a JSON error body (`{"error":{"httpStatus":500,…}}`). */
export class PortalServerError extends TransientError {
  override name = 'PortalServerError';
  constructor(
    message: string,
    /** The error body, shortened. */
    readonly body: string,
  ) {
    super(message, { status: 500 });
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
