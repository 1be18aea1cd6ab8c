/**
 * The Opower utilities homeflux knows, as a table: adding a utility is one entry.
 *
 * Every utility shares the same data API (`/ei/edge/apis/...` under `https://{sub}.opower.com`);
 * what differs is the subdomain, the utility code in the paths, the local time zone and how a
 * session is obtained. The last is a {@link LoginStrategy}, so a utility that signs in through
 * an HTML form (parse it with cheerio) or hands out a bearer token can be added without
 * touching the client or the agent.
 */
import { AuthError, excerpt } from '../../errors.ts';
import { isTransientStatus, looksLikeHtml, readText, transientAnswer } from '../../http.ts';
import { aepSignin } from './signin/aep.ts';
import { conedSignin } from './signin/coned.ts';
import { eversourceSignin } from './signin/eversource.ts';
import { exelonSignin } from './signin/exelon.ts';
import { nationalGridSignin } from './signin/nationalgrid.ts';
import { duquesneSignin, pseSignin } from './signin/page-token.ts';
import { portlandGeneralSignin } from './signin/portlandgeneral.ts';

/** What a login strategy may use: the session's fetch (cookies kept) and where to send it. */
export interface LoginContext {
  /** Fetch that keeps cookies in the session's jar and sends the browser-like headers. */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Origin of the portal, `https://{sub}.opower.com` or `OPOWER_BASE_URL`. */
  baseUrl: string;
  utility: Utility;
  username: string;
  password: string;
  /** The utility's own sign-in site (its `loginBaseUrl`, or `OPOWER_LOGIN_BASE_URL`). */
  loginBaseUrl?: string;
  /** `OPOWER_TOTP_SECRET`: the authenticator secret, for sign-ins that ask a one-time code. */
  totpSecret?: string;
  /** The sign-in kept between runs (a sealed file), for families that refresh one (Exelon). */
  session?: SessionStore;
  /**
   * A person at a terminal (`scripts/opower.ts --login`): asks a question, resolves the answer.
   * Absent in scheduled runs — a sign-in that needs a code sent by e-mail or text then fails.
   */
  ask?: (question: string) => Promise<string>;
  signal: AbortSignal;
}

/** A sign-in's kept session: any JSON, sealed at rest (see src/agents/opower/session.ts). */
export interface SessionStore {
  /** Where it is kept, for messages (a path). */
  readonly where: string;
  /** The kept session, or undefined when there is none; throws when it cannot be opened. */
  load(): Promise<Record<string, unknown> | undefined>;
  /** Keep `value` (sealed), replacing what was kept. */
  save(value: Record<string, unknown>): Promise<void>;
}

/** What a successful login leaves behind, besides cookies kept in the jar. */
export interface LoginResult {
  /** Headers to send with every later request (e.g. `authorization: Bearer …`). */
  headers?: Record<string, string>;
  /** Run-time secrets (tokens) to mask in all output; cookie values are masked by the client. */
  secrets?: string[];
  /**
   * The Opower portal this login belongs to, when the sign-in finds it out (the AEP group's
   * page names it; Pepco and Delmarva choose by account): its subdomain, and the utility code
   * in the API paths (the subdomain when not given).
   */
  portal?: { subdomain: string; code?: string };
}

/** How one family of utilities signs in. */
export interface LoginStrategy {
  /** Short name for messages and docs, e.g. `json-signin`. */
  readonly kind: string;
  /** The sign-in keeps a session between runs (made by `--login`, refreshed by every run). */
  readonly keepsSession?: boolean;
  /** Sign in; throw AuthError for refused credentials, TransientError for a passing failure. */
  login(context: LoginContext): Promise<LoginResult>;
}

/** One Opower utility. */
export interface Utility {
  /** Key used in `OPOWER_UTILITY`, in `source` (`homeflux.opower.<id>`) and `location`. */
  id: string;
  /** Human name for messages. */
  name: string;
  /** Subdomain of opower.com; '' when the sign-in finds it (the AEP group). */
  subdomain: string;
  /** Utility code in API paths; '' when the sign-in finds it. */
  code: string;
  /** IANA zone of the utility's reads and request dates. */
  timezone: string;
  login: LoginStrategy;
  /** Headers the portal wants on every request (NIPSCO: `X-Requested-With: XMLHttpRequest`, tronikos/opower nipsco.py). */
  headers?: Record<string, string>;
  /** The utility's own sign-in site, for families that sign in there before the Opower session. */
  loginBaseUrl?: string;
  /** What the utility's accounts give, for the docs: `interval` reads, or `billing` only (Clark, Rhode Island Energy). */
  resolution?: 'interval' | 'billing';
  /** More of the utility's own hosts the sign-in talks to, by role (Duquesne's `auth`, Eversource's `okta`, Exelon's `accounts`); `OPOWER_LOGIN_BASE_URL` replaces them too. */
  hosts?: Record<string, string>;
  /** Family-specific constants of the sign-in (client ids, policies), documented where they are used. */
  signin?: Record<string, string>;
}

const SIGNIN_PATH = (code: string): string => `/ei/edge/apis/user-account-control-v1/cws/v1/${code}/account/signin`;

/**
 * The sign-in used by GWP and its family: one JSON POST, the session comes back as cookies.
 * 401/403 → AuthError naming the utility and status; 429/5xx → TransientError.
 */
export const jsonSignin: LoginStrategy = {
  kind: 'json-signin',
  async login(context): Promise<LoginResult> {
    const { utility } = context;
    const path = SIGNIN_PATH(utility.code);
    const response = await context.fetch(`${context.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username: context.username, password: context.password }),
      signal: context.signal,
    });
    const body = await readText(response, { source: `sign-in to ${utility.name}`, runSignal: context.signal });
    const where = `sign-in to ${utility.name} (${utility.id}) at POST ${path}`;
    if (response.status === 401 || response.status === 403) {
      // The body may echo the username; keep only a short excerpt (the logger masks secrets).
      throw new AuthError(`${where} was refused: HTTP ${response.status}; check OPOWER_USERNAME and OPOWER_PASSWORD (or GWP_USER, GWP_PASSWORD) (${excerpt(body, 120)})`, response.status);
    }
    // An HTML page is maintenance or an edge filter, whatever its status: worth a retry.
    if (isTransientStatus(response.status) || looksLikeHtml(body)) throw transientAnswer(`${where} failed: HTTP ${response.status}${describeHtml(body)}`, response);
    // GWP answers 204 with no body; others 200 (the original homeflux accepted both).
    if (!response.ok) throw new AuthError(`${where} failed: expected HTTP 204 or 200, got ${response.status} (${excerpt(body, 120)})`, response.status);
    return {};
  },
};

/**
 * Southwest Gas (tronikos/opower swgas.py): `GET /ei/x/sign-in-wall?source=intercepted` first for
 * its cookies, then the JSON sign-in with `Origin`, `Referer` (the wall) and
 * `X-Requested-With: XMLHttpRequest`; it answers 204 (a cookie session, as GWP) or 200 with
 * `sessionToken` / `accessToken`, sent from then on as `Authorization: Bearer`.
 */
export const wallSignin: LoginStrategy = {
  kind: 'wall-signin',
  async login(context): Promise<LoginResult> {
    const { utility } = context;
    const wall = `${context.baseUrl}/ei/x/sign-in-wall?source=intercepted`;
    const warm = await context.fetch(wall, { signal: context.signal });
    await warm.arrayBuffer();
    if (isTransientStatus(warm.status)) throw transientAnswer(`sign-in to ${utility.name} (${utility.id}), step "sign-in wall" failed: HTTP ${warm.status}`, warm);
    const path = SIGNIN_PATH(utility.code);
    const response = await context.fetch(`${context.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/plain, */*', origin: context.baseUrl, referer: wall, 'x-requested-with': 'XMLHttpRequest' },
      body: JSON.stringify({ username: context.username, password: context.password }),
      signal: context.signal,
    });
    const body = await readText(response, { source: `sign-in to ${utility.name}`, runSignal: context.signal });
    const where = `sign-in to ${utility.name} (${utility.id}) at POST ${path}`;
    if (response.status === 401 || response.status === 403) {
      throw new AuthError(`${where} was refused: HTTP ${response.status}; check OPOWER_USERNAME and OPOWER_PASSWORD${describeHtml(body)}`, response.status);
    }
    if (isTransientStatus(response.status) || looksLikeHtml(body)) throw transientAnswer(`${where} failed: HTTP ${response.status}${describeHtml(body)}`, response);
    if (response.status === 204) return {};
    if (response.status !== 200) throw new AuthError(`${where} failed: expected HTTP 204 or 200, got ${response.status} (${excerpt(body, 120)})`, response.status);
    let token: unknown;
    try {
      const json = JSON.parse(body) as { sessionToken?: unknown; accessToken?: unknown };
      token = json.sessionToken ?? json.accessToken;
    } catch {
      /* reported below */
    }
    if (typeof token !== 'string' || token === '') throw new AuthError(`${where}: HTTP 200 without a sessionToken or accessToken (the sign-in may have changed)`);
    return { headers: { authorization: `Bearer ${token}` }, secrets: [token] };
  },
};

/** ` with an HTML page ("<title>")` when `body` is HTML (maintenance, login page), else ''. */
export function describeHtml(body: string): string {
  if (!looksLikeHtml(body)) return '';
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1]?.trim();
  return ` with an HTML page${title ? ` ("${excerpt(title, 80)}")` : ''} where JSON was expected (maintenance or a login page)`;
}

/** Every supported utility, by id. */
export const UTILITIES: Readonly<Record<string, Utility>> = Object.fromEntries(
  (
    [
      { id: 'gwp', name: 'Glendale Water and Power', subdomain: 'gwp', code: 'gwp', timezone: 'America/Los_Angeles', login: jsonSignin },
      { id: 'bwp', name: 'Burbank Water and Power', subdomain: 'bwp', code: 'bwp', timezone: 'America/Los_Angeles', login: jsonSignin },
      { id: 'clrk', name: 'Clark Public Utilities', subdomain: 'clrk', code: 'clrk', timezone: 'America/Los_Angeles', login: jsonSignin, resolution: 'billing' },
      { id: 'nipsco', name: 'NIPSCO', subdomain: 'nipsco', code: 'nie', timezone: 'America/Indiana/Indianapolis', login: jsonSignin, headers: { 'x-requested-with': 'XMLHttpRequest' } },
      { id: 'rienergy', name: 'Rhode Island Energy', subdomain: 'rienergy', code: 'ngri', timezone: 'America/New_York', login: jsonSignin, resolution: 'billing' },
      { id: 'swg', name: 'Southwest Gas', subdomain: 'swg', code: 'swg', timezone: 'America/Phoenix', login: wallSignin },
      // tronikos/opower coned.py and oru.py: the utility's own login (+ TOTP), then a bearer token.
      { id: 'coned', name: 'Consolidated Edison (ConEd)', subdomain: 'cned', code: 'cned', timezone: 'America/New_York', login: conedSignin, loginBaseUrl: 'https://www.coned.com' },
      { id: 'oru', name: 'Orange & Rockland Utilities (ORU)', subdomain: 'oru', code: 'oru', timezone: 'America/New_York', login: conedSignin, loginBaseUrl: 'https://www.oru.com' },
      // tronikos/opower aepbase.py and its seven utilities: the site's own form; the page names the portal.
      { id: 'aepohio', name: 'AEP Ohio', subdomain: '', code: '', timezone: 'America/New_York', login: aepSignin, loginBaseUrl: 'https://www.aepohio.com' },
      { id: 'aeptexas', name: 'AEP Texas', subdomain: '', code: '', timezone: 'America/Chicago', login: aepSignin, loginBaseUrl: 'https://www.aeptexas.com' },
      { id: 'appalachianpower', name: 'Appalachian Power', subdomain: '', code: '', timezone: 'America/New_York', login: aepSignin, loginBaseUrl: 'https://www.appalachianpower.com' },
      { id: 'indianamichiganpower', name: 'Indiana Michigan Power', subdomain: '', code: '', timezone: 'America/New_York', login: aepSignin, loginBaseUrl: 'https://www.indianamichiganpower.com' },
      { id: 'kentuckypower', name: 'Kentucky Power', subdomain: '', code: '', timezone: 'America/New_York', login: aepSignin, loginBaseUrl: 'https://www.kentuckypower.com' },
      { id: 'psoklahoma', name: 'Public Service Company of Oklahoma (PSO)', subdomain: '', code: '', timezone: 'America/Chicago', login: aepSignin, loginBaseUrl: 'https://www.psoklahoma.com' },
      { id: 'swepco', name: 'Southwestern Electric Power Company (SWEPCO)', subdomain: '', code: '', timezone: 'America/Chicago', login: aepSignin, loginBaseUrl: 'https://www.swepco.com' },
      // tronikos/opower exelon.py and its six utilities: B2C as the mobile apps use it, MFA, a kept refresh token.
      { id: 'ace', name: 'Atlantic City Electric', subdomain: 'ace', code: 'ace', timezone: 'America/New_York', login: exelonSignin, loginBaseUrl: 'https://secure.atlanticcityelectric.com', signin: { clientId: '64930d53-e888-45f9-9b02-aeed39ba48ca', mobileId: 'msauth.com.ifactorconsulting.acelectric' }, hosts: { accounts: 'https://eudapi.atlanticcityelectric.com' } },
      { id: 'bge', name: 'Baltimore Gas and Electric (BGE)', subdomain: 'bgec', code: 'bgec', timezone: 'America/New_York', login: exelonSignin, loginBaseUrl: 'https://secure.bge.com', signin: { clientId: '202e1b60-9ba3-4e49-ab43-a1ebd438aa97', mobileId: 'msauth.com.exelon.mobile.bge' }, hosts: { accounts: 'https://eudapi.bge.com' } },
      { id: 'comed', name: 'Commonwealth Edison (ComEd)', subdomain: 'cec', code: 'cec', timezone: 'America/Chicago', login: exelonSignin, loginBaseUrl: 'https://secure.comed.com', signin: { clientId: 'b587ed2d-28a5-462c-8c1f-835f9d73f7c3', mobileId: 'msauth.com.comed.mobile' }, hosts: { accounts: 'https://eudapi.comed.com' } },
      { id: 'delmarva', name: 'Delmarva Power', subdomain: 'dpl', code: 'dpl', timezone: 'America/New_York', login: exelonSignin, loginBaseUrl: 'https://secure.delmarva.com', signin: { clientId: '571ee0e4-c2cc-4d39-b784-6395571cb077', mobileId: 'msauth.com.ifactorconsulting.delmarva', secondarySubdomain: 'dpld' }, hosts: { accounts: 'https://eudapi.delmarva.com' } },
      { id: 'peco', name: 'PECO Energy Company (PECO)', subdomain: 'peco', code: 'peco', timezone: 'America/New_York', login: exelonSignin, loginBaseUrl: 'https://secure.peco.com', signin: { clientId: 'e555f5eb-b9ec-48b8-9452-fa0ed2ddeeda', mobileId: 'msauth.com.exelon.mobile.peco' }, hosts: { accounts: 'https://eudapi.peco.com' } },
      { id: 'pepco', name: 'Potomac Electric Power Company (Pepco)', subdomain: 'pep', code: 'pep', timezone: 'America/New_York', login: exelonSignin, loginBaseUrl: 'https://secure.pepco.com', signin: { clientId: 'bb13a5b0-c61c-4194-960b-c44cebe992c2', mobileId: 'msauth.com.ifactorconsulting.pepco', secondarySubdomain: 'pepd' }, hosts: { accounts: 'https://eudapi.pepco.com' } },
      // tronikos/opower nationalgrid*.py: one B2C OpenID Connect sign-in for four portals.
      { id: 'nationalgridma', name: 'National Grid (MA)', subdomain: 'ngma', code: 'ngma', timezone: 'America/New_York', login: nationalGridSignin },
      { id: 'nationalgridli', name: 'National Grid (Long Island)', subdomain: 'ngli', code: 'ngli', timezone: 'America/New_York', login: nationalGridSignin },
      { id: 'nationalgridnymetro', name: 'National Grid (NY Metro)', subdomain: 'ngny-gas', code: 'ngbk', timezone: 'America/New_York', login: nationalGridSignin },
      { id: 'nationalgridnyupstate', name: 'National Grid (NY Upstate)', subdomain: 'ngny', code: 'ngny', timezone: 'America/New_York', login: nationalGridSignin },
      // tronikos/opower pse.py and duquesnelight.py: the site's sign-in, then the token its usage page carries.
      { id: 'pse', name: 'Puget Sound Energy (PSE)', subdomain: 'pse', code: 'pse', timezone: 'America/Los_Angeles', login: pseSignin, loginBaseUrl: 'https://www.pse.com' },
      { id: 'duquesne', name: 'Duquesne Light Company (DQE)', subdomain: 'duq', code: 'duq', timezone: 'America/New_York', login: duquesneSignin, loginBaseUrl: 'https://www.duquesnelight.com', hosts: { auth: 'https://auth.duquesnelight.com' } },
      // tronikos/opower portlandgeneral.py: AWS Cognito, then PGE's token exchange.
      { id: 'portlandgeneral', name: 'Portland General Electric (PGE)', subdomain: 'pgn', code: 'pgn', timezone: 'America/Los_Angeles', login: portlandGeneralSignin },
      // tronikos/opower eversource.py: its own login, Okta (authn + PKCE), the widget data's token.
      { id: 'eversource', name: 'Eversource', subdomain: 'ever', code: 'ever', timezone: 'America/New_York', login: eversourceSignin, loginBaseUrl: 'https://www.eversource.com', hosts: { okta: 'https://eversource-external.okta.com' } },
    ] satisfies Utility[] as Utility[]
  ).map((u) => [u.id, u]),
);

/** Ids of every supported utility, for messages and the settings schema. */
export const UTILITY_IDS = Object.keys(UTILITIES) as [string, ...string[]];

/** Look a utility up by id (case-insensitive); undefined when unknown. */
export function findUtility(id: string): Utility | undefined {
  return UTILITIES[id.trim().toLowerCase()];
}
