/**
 * Pieces of an Azure AD B2C sign-in shared by the Exelon group and National Grid: PKCE, the
 * `SETTINGS` object a B2C page carries in a script, and its self-asserted form posts. Facts from
 * Microsoft's B2C pages as the public Opower client reads them (tronikos/opower `exelon.py`,
 * `oidchelper.py`): a B2C page defines `var SETTINGS = {…};` with `csrf`, `transId`, `api`,
 * `pageViewId` and `hosts.{tenant, policy}`; a form post goes to `{tenant}/{api}[/{action}]` with
 * `tx` and `p` in the query and the `X-CSRF-TOKEN` header, and answers JSON whose `status` is
 * `"200"` when accepted (else a `message`); the next page is `api/{api}/confirmed`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AuthError, excerpt } from '../../../errors.ts';
import type { LoginContext } from '../utilities.ts';
import { signinStep, stepObject, stepWhere, type StepAnswer } from './steps.ts';

/** The S256 challenge of a PKCE verifier: BASE64URL(SHA256(verifier)) (RFC 7636 §4.2). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** A fresh PKCE verifier (32 random bytes, 43 characters: RFC 7636 §4.1) and its challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

/**
 * The object literal assigned by `var {name} = {…};` in a page's script, or undefined. Braces
 * inside strings are skipped, so a `;` or `}` in a value does not end it.
 */
export function scriptObject(html: string, name: string): Record<string, unknown> | undefined {
  const start = new RegExp(`var\\s+${name}\\s*=\\s*\\{`).exec(html);
  if (start === null) return undefined;
  const open = start.index + start[0].length - 1;
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < html.length; i++) {
    const c = html[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      try {
        return JSON.parse(html.slice(open, i + 1)) as Record<string, unknown>;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** What a B2C page's SETTINGS tell the next request. */
export interface B2cSettings {
  csrf: string;
  transId: string;
  api: string;
  pageViewId: string;
  tenant: string;
  policy: string;
}

/** Read a B2C page's SETTINGS; an AuthError naming the step when the page has none. */
export function b2cSettings(context: LoginContext, step: string, html: string): B2cSettings {
  const raw = scriptObject(html, 'SETTINGS');
  const hosts = (raw?.hosts ?? {}) as Record<string, unknown>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (raw === undefined || text(raw.csrf) === '' || text(raw.transId) === '') throw new AuthError(`${stepWhere(context, step)}: the page has no B2C SETTINGS (csrf, transId) — the sign-in page may have changed, or the site is down`);
  return { csrf: text(raw.csrf), transId: text(raw.transId), api: text(raw.api), pageViewId: text(raw.pageViewId), tenant: text(hosts.tenant), policy: text(hosts.policy) };
}

/** A B2C form post: `{tenantUrl}/{api}[/{action}]?tx&p` with the CSRF header; returns the JSON answer, refusals thrown by the caller's judgement. */
export async function b2cPost(context: LoginContext, step: string, tenantUrl: string, settings: B2cSettings, action: string, form: Record<string, string>): Promise<{ status: string; message: string }> {
  const query = new URLSearchParams({ tx: settings.transId, p: settings.policy }).toString();
  const answer = await signinStep(context, { name: step, url: `${tenantUrl}/${settings.api}${action === '' ? '' : `/${action}`}?${query}`, form, headers: { 'x-csrf-token': settings.csrf, 'x-requested-with': 'XMLHttpRequest', accept: 'application/json, text/javascript, */*; q=0.01' } });
  const json = stepObject(context, step, answer);
  return { status: String(json.status ?? ''), message: typeof json.message === 'string' ? json.message : '' };
}

/** GET `{tenantUrl}/api/{api}/confirmed` (redirects kept, not followed: the last one carries the code). */
export async function b2cConfirmed(context: LoginContext, step: string, tenantUrl: string, settings: B2cSettings, extra: Record<string, string> = {}): Promise<StepAnswer> {
  const query = new URLSearchParams({
    ...extra,
    csrf_token: settings.csrf,
    tx: settings.transId,
    p: settings.policy,
    diags: JSON.stringify({ pageViewId: settings.pageViewId, pageId: settings.api, trace: [] }),
  }).toString();
  return signinStep(context, { name: step, url: `${tenantUrl}/api/${settings.api}/confirmed?${query}`, redirect: 'manual', headers: { accept: 'text/html,application/xhtml+xml' } });
}

/** The `code` (or the `error`) of a redirect back to the app. */
export function authorizationCode(context: LoginContext, step: string, location: string): string {
  const url = new URL(location.replace(/^[a-z][a-z0-9+.-]*:\/\/auth\/?/i, 'https://app.invalid/auth/'));
  const code = url.searchParams.get('code');
  if (code !== null && code !== '') return code;
  const error = url.searchParams.get('error');
  throw new AuthError(`${stepWhere(context, step)}: the identity provider answered ${error === null ? 'no authorization code' : `"${excerpt(error, 60)}: ${excerpt(url.searchParams.get('error_description') ?? '', 120)}"`}`);
}

/** POST an OAuth token request; returns the JSON, or throws `refused(error)` on a 400/401 answer (RFC 6749 §5.2). */
export async function tokenRequest(context: LoginContext, step: string, url: string, form: Record<string, string>, refused: (error: string) => Error): Promise<Record<string, unknown>> {
  const answer = await signinStep(context, { name: step, url, form, accept: [400, 401], headers: { accept: 'application/json' } });
  const json = stepObject(context, step, answer);
  if (answer.status !== 200) throw refused(typeof json.error === 'string' ? json.error : `HTTP ${answer.status}`);
  return json;
}
