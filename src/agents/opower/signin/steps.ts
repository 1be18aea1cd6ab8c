/**
 * One step of a utility's own sign-in (a page, a form, a token endpoint), with the failures every
 * family shares turned into the pipeline's error classes: 429/5xx and network trouble are
 * transient (the run retries later), anything else that is not 2xx is an AuthError naming the
 * utility and the step. No request body, cookie or token ever goes into a message.
 */
import { AuthError, excerpt, TransientError } from '../../../errors.ts';
import { isTransientStatus, looksLikeHtml, readText, transientAnswer } from '../../../http.ts';
import type { LoginContext } from '../utilities.ts';

/** What one step sends. */
export interface StepRequest {
  /** The step's name in messages ("password", "one-time code", "token"). */
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A form (`application/x-www-form-urlencoded`) or a JSON body. */
  form?: Record<string, string>;
  json?: unknown;
  /** `manual` keeps a redirect as the answer (its `location` is the result). Default `follow`. */
  redirect?: 'follow' | 'manual';
  /** Statuses that are answers to read, not failures (e.g. 400 from a token endpoint). */
  accept?: readonly number[];
}

/** What one step got back. */
export interface StepAnswer {
  status: number;
  /** Where the answer came from after redirects. */
  url: string;
  /** `location` of a kept redirect. */
  location: string | undefined;
  text: string;
}

/** True when `value` can travel in an HTTP header: visible ASCII, spaces and tabs (RFC 9110 §5.5, without obs-text). */
export function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e]*$/.test(value);
}

/** `sign-in to {name} ({id}), step "{step}"`: the start of every sign-in message. */
export function stepWhere(context: LoginContext, step: string): string {
  return `sign-in to ${context.utility.name} (${context.utility.id}), step "${step}"`;
}

/** Send one step; see the module comment for what fails how. */
export async function signinStep(context: LoginContext, request: StepRequest): Promise<StepAnswer> {
  const where = stepWhere(context, request.name);
  const headers: Record<string, string> = { ...request.headers };
  let body: string | undefined;
  if (request.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.form).toString();
  } else if (request.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(request.json);
  }
  // A site's answer feeds the next request (a redirect target, a token in a header): one that
  // cannot be sent is the site's fault, said as such, not a fetch TypeError.
  if (!URL.canParse(request.url)) throw new AuthError(`${where}: the site led to an address that is not a URL ("${excerpt(request.url, 80)}")`);
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderValue(value)) throw new AuthError(`${where}: the site gave a value that cannot be sent in the ${name} header (the sign-in may have changed)`);
  }
  const response = await context.fetch(request.url, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, redirect: request.redirect ?? 'follow', signal: context.signal });
  const text = await readText(response, { source: where, runSignal: context.signal });
  const { status } = response;
  const answer: StepAnswer = { status, url: response.url || request.url, location: response.headers.get('location') ?? undefined, text };
  if (request.accept?.includes(status)) return answer;
  if (isTransientStatus(status)) throw transientAnswer(`${where} failed: HTTP ${status}`, response);
  if (status >= 300 && status < 400 && request.redirect === 'manual') return answer;
  if (status < 200 || status >= 300) throw new AuthError(`${where} failed: HTTP ${status}${looksLikeHtml(text) ? '' : ` (${excerpt(text, 120)})`}`, status);
  return answer;
}

/** Parse a step's JSON answer; a page where JSON was expected is transient (maintenance). */
export function stepJson(context: LoginContext, step: string, answer: StepAnswer): unknown {
  if (looksLikeHtml(answer.text)) throw new TransientError(`${stepWhere(context, step)} failed: HTTP ${answer.status} with an HTML page where JSON was expected (maintenance, or the sign-in changed)`, { status: answer.status });
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw new AuthError(`${stepWhere(context, step)}: the answer is not JSON ("${excerpt(answer.text, 60)}")`);
  }
}

/** A step's JSON answer that must be an object (`{…}`); anything else is an AuthError naming the step. */
export function stepObject(context: LoginContext, step: string, answer: StepAnswer): Record<string, unknown> {
  const json = stepJson(context, step, answer);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new AuthError(`${stepWhere(context, step)}: expected a JSON object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json} (the sign-in may have changed)`);
  return json as Record<string, unknown>;
}

/** The origin to use for one of the utility's own hosts: `OPOWER_LOGIN_BASE_URL` when set (tests, a proxy), else `origin`. */
export function hostOf(context: LoginContext, origin: string): string {
  return (context.loginBaseUrl ?? origin).replace(/\/$/, '');
}

/** A body's JSON object when it is one, else `{}` (answers whose shape is only partly known). */
export function looseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
