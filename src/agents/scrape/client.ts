/**
 * HTTP for the scraper: a cookie-keeping fetch per page (fetch-cookie), form login (the form
 * and its hidden fields found with cheerio), and fetching a page as HTML or JSON.
 */
import * as cheerio from 'cheerio';
import { makeFetchCookie } from '../../deps.ts';
import { AuthError, excerpt, SourceDataError } from '../../errors.ts';
import { isTransientStatus, looksLikeHtml, readText, requestError, requestSignal, transientAnswer } from '../../http.ts';
import type { Logger } from '../../log.ts';
import type { PageConfig } from './settings.ts';

/** fetch with a cookie jar. */
export type CookieFetch = (input: string, init?: RequestInit) => Promise<Response>;

/** A fresh cookie jar per page, so one device's session never leaks to another. */
export function cookieFetch(): CookieFetch {
  return makeFetchCookie(fetch) as unknown as CookieFetch;
}

/** A fetched page: parsed HTML or JSON. */
export interface FetchedPage {
  html?: cheerio.CheerioAPI;
  json?: unknown;
  url: string;
}

async function request(fetcher: CookieFetch, url: string, init: RequestInit & { timeoutMs: number; signal: AbortSignal }): Promise<Response> {
  const signals = requestSignal(init.timeoutMs, init.signal);
  const signal = signals.signal;
  try {
    // Redirects are followed here, not by fetch, so the cookie jar sees the Set-Cookie of every
    // hop (a login answers 302 + session cookie; native fetch would hide it).
    let response = await fetcher(url, { ...init, signal, redirect: 'manual' });
    let current = url;
    for (let hop = 0; response.status >= 300 && response.status < 400 && response.headers.get('location'); hop++) {
      if (hop >= 5) throw new SourceDataError(`${url}: more than 5 redirects`);
      await response.arrayBuffer();
      current = new URL(response.headers.get('location')!, current).toString();
      const keep = response.status === 307 || response.status === 308;
      response = await fetcher(current, { ...(keep ? init : { headers: init.headers }), signal, redirect: 'manual' });
    }
    Object.defineProperty(response, 'url', { value: current });
    if (isTransientStatus(response.status)) {
      await response.arrayBuffer();
      throw transientAnswer(`${url} answered HTTP ${response.status}`, response);
    }
    return response;
  } catch (error) {
    throw requestError(error, () => `${url}: ${(error as Error).message}`, signals);
  }
}

const hasPasswordForm = ($: cheerio.CheerioAPI): boolean => $('form input[type="password" i]').length > 0;

/**
 * Log in with the page's form: GET the login page, take every input of the form (hidden
 * tokens included), fill in the credentials and POST it to the form's action.
 */
export async function login(fetcher: CookieFetch, page: PageConfig, options: { env: { [k: string]: string | undefined }; log: Logger; timeoutMs: number; signal: AbortSignal }): Promise<void> {
  const spec = page.login!;
  const username = options.env[spec.usernameEnv] ?? '';
  const password = options.env[spec.passwordEnv] ?? '';
  options.log.mask(password);
  const response = await request(fetcher, spec.url, { timeoutMs: options.timeoutMs, signal: options.signal });
  const $ = cheerio.load(await readText(response, { source: `login page ${spec.url}`, timeoutSeconds: options.timeoutMs / 1000, runSignal: options.signal }));
  const form = spec.form ? $(spec.form).first() : $('form').filter((_, f) => $(f).find('input[type="password" i]').length > 0).first();
  if (form.length === 0) throw new AuthError(`login page ${spec.url} has no ${spec.form ? `form matching "${spec.form}"` : 'form with a password input'} (HTTP ${response.status})`);
  const body = new URLSearchParams();
  form.find('input[name], select[name], textarea[name]').each((_, el) => {
    const input = $(el);
    const type = (input.attr('type') ?? '').toLowerCase();
    if ((type === 'checkbox' || type === 'radio') && input.attr('checked') === undefined) return;
    if (type === 'submit' || type === 'button' || type === 'image') return;
    if (el.tagName.toLowerCase() === 'select') {
      const option = input.find('option[selected]').first().length > 0 ? input.find('option[selected]').first() : input.find('option').first();
      body.set(input.attr('name')!, option.attr('value') ?? option.text());
    } else body.set(input.attr('name')!, input.attr('value') ?? input.text() ?? '');
  });
  const passwordField = spec.passwordField ?? form.find('input[type="password" i]').first().attr('name');
  const usernameField = spec.usernameField ?? form.find('input[type="text" i], input[type="email" i], input:not([type])').first().attr('name');
  if (!passwordField || !usernameField) throw new AuthError(`login form on ${spec.url}: cannot tell the username and password inputs apart; set usernameField and passwordField`);
  body.set(usernameField, username);
  body.set(passwordField, password);
  const submit = form.find('input[type="submit" i][name]').first();
  if (submit.length > 0) body.set(submit.attr('name')!, submit.attr('value') ?? '');
  for (const [key, value] of Object.entries(spec.fields)) body.set(key, value);
  const action = new URL(form.attr('action') ?? '', response.url || spec.url).toString();
  const method = (form.attr('method') ?? 'post').toUpperCase();
  const posted = await request(fetcher, method === 'GET' ? `${action.split('?')[0]}?${body}` : action, {
    method,
    headers: method === 'GET' ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
    body: method === 'GET' ? undefined : body.toString(),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  const text = await readText(posted, { source: `login at ${spec.url}`, timeoutSeconds: options.timeoutMs / 1000, runSignal: options.signal });
  if (posted.status === 401 || posted.status === 403 || hasPasswordForm(cheerio.load(text))) {
    throw new AuthError(`login at ${spec.url} failed (HTTP ${posted.status}${posted.status < 400 ? ', the login form came back' : ''}): check ${spec.usernameEnv} and ${spec.passwordEnv}`);
  }
}

/** Fetch a page as HTML or JSON (by config, else by content type); a login page instead of data is an {@link AuthError}. */
export async function fetchPage(fetcher: CookieFetch, page: PageConfig, options: { timeoutMs: number; signal: AbortSignal }): Promise<FetchedPage> {
  const response = await request(fetcher, page.url, { timeoutMs: options.timeoutMs, signal: options.signal, headers: { accept: page.format === 'json' ? 'application/json' : 'text/html, application/json;q=0.9' } });
  const text = await readText(response, { source: page.url, timeoutSeconds: options.timeoutMs / 1000, runSignal: options.signal });
  if (response.status === 401 || response.status === 403) throw new AuthError(`${page.url} answered HTTP ${response.status}${page.login ? '' : '; does the page need a login?'}`, response.status);
  if (response.status >= 400) throw new SourceDataError(`${page.url} answered HTTP ${response.status}`, excerpt(text));
  const json = page.format === 'json' || (page.format === undefined && /json/i.test(response.headers.get('content-type') ?? ''));
  if (json) {
    try {
      return { json: JSON.parse(text), url: response.url };
    } catch {
      throw new SourceDataError(`${page.url}: expected JSON, got ${looksLikeHtml(text) ? 'an HTML page' : 'unreadable text'}`, excerpt(text));
    }
  }
  const $ = cheerio.load(text);
  if (hasPasswordForm($)) throw new AuthError(`${page.url} answered a login form instead of the page${page.login ? ' (the session was not accepted)' : '; add a login to the page config'}`);
  return { html: $, url: response.url };
}
