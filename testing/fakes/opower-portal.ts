/**
 * A fake Opower portal (`https://{sub}.opower.com`) on 127.0.0.1, port 0, built from
 * ../shared/fixtures/opower/PROTOCOL.md and its shape fixtures (T = tronikos/opower, H = the
 * original homeflux). What it does, and where each behaviour comes from:
 *
 * - sign-in `POST …/user-account-control-v1/cws/v1/{code}/account/signin` answers **204** with
 *   `JSESSIONID`, `JSESSIONID-samesite` and a `TS01…` cookie (signin.http; H accepts 200/204);
 *   bad credentials → 401 (PROTOCOL: 401 or 403);
 * - customers with `offset`/`batchSize`/`total` paging, each with several utility accounts
 *   (customers.json); `Opower-Selected-Entities` picks the customer (T `_get_headers`); without
 *   it the first customer is selected and an account of another customer is answered with the
 *   selected customer's account of the same meter type — *assumed* ("may read the wrong one or
 *   fail"): the wrong data is the harder failure to notice, so the fake gives that;
 * - usage reads with `units.consumption` (usage-*.json; H), cost with date-time parameters and
 *   `readComponents` (cost-day.json); the unit of gas in CCF by default;
 * - reads times with milliseconds and the local offset, so 2025-11-02 has two 01:00 hours;
 * - hours not metered yet (`meteredUntil`) are answered as trailing **zero** reads, usage and
 *   cost both 0 (T drops them: `async_get_cost_reads`);
 * - spans including a day before an account's `dataStart`, or a `failDays` day, answer 500
 *   with the upstream error body (error-500-upstream.json; HA issue 99674);
 * - the cost endpoint per account: normal, 500, or `reads: []` + `ratePlans` (T);
 * - daily weather dated `YYYY-MM-DDT00:00:00.000Z` for a *local* date (weather-daily.json; H
 *   rewrites `.000Z`); hourly weather takes date-times with the local offset (H `urls.py`), end
 *   exclusive (*assumed*: H asks midnight to midnight for one day's hours);
 * - an expired session answers 401 **or** a 302 to `/ei/app/403.html` (PROTOCOL "Sign-in");
 * - `aggregateType=bill` (no dates) on the cost and the usage endpoint (cost-bill.json, T);
 * - the GraphQL bill forecast (bill-forecast-graphql.json, T `async_get_forecast`);
 * - request spans over T's limits (hour 26 days, day 363, quarter hour 6) → 400 — the limits
 *   are T's, the 400 answer is *assumed*;
 * - a non-browser User-Agent gets a 403 HTML page — *assumed* (edge filters in front of
 *   portals refuse library defaults; T and H both send a browser User-Agent);
 * - `requireHeaders` (NIPSCO's `X-Requested-With`, T nipsco.py): without them 403 — the
 *   answer is *assumed*;
 * - maintenance HTML (503 or 200), 429 with Retry-After, latency: fault injection for tests.
 *
 * Removed as invented: a 200 sign-in body, `totalCount`, the top-level `unit` on usage reads,
 * bare dates accepted for hourly weather, `includeEnhancedBilling` parameters.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DateTime } from 'luxon';
import { billPeriods, type FakeAccount, hash, hourCostMicros, hourValue as valueOf, LocalClock, openPeriod, quarterSplit, round, touOf } from './opower-data.ts';

export { type FakeAccount, quarterSplit } from './opower-data.ts';

/** One customer of the login. */
export interface FakeCustomer {
  uuid: string;
  accounts: FakeAccount[];
}

/** Options for {@link startOpowerPortal}. */
export interface OpowerPortalOptions {
  code?: string;
  timezone?: string;
  username?: string;
  password?: string;
  /** Accounts of the one customer (ignored when `customers` is given). */
  accounts?: FakeAccount[];
  /** Several customers on one login. */
  customers?: FakeCustomer[];
  /** Delay before answering each request, in ms. */
  latencyMs?: number;
  /** A session ends after this many data requests (default unlimited). */
  sessionMaxRequests?: number;
  /** How an ended session answers: 401 JSON (default) or a redirect to an HTML page. */
  expiredAs?: '401' | 'redirect';
  /** Local hours (`2025-10-30T14:00`, in `timezone`) served as ESTIMATED until corrected. */
  estimatedHours?: string[];
  /** Local hours not served at all. */
  missingHours?: string[];
  /** Local hours of real zero use (nobody home, a water meter at night): metered, value 0. */
  zeroHours?: string[];
  /** Sign-ins after this many successful ones are refused with 401 (a password changed elsewhere). */
  maxSignins?: number;
  /** Reads at or after this instant (Unix s) are not metered yet: answered as zeros. */
  meteredUntil?: number;
  /** Local dates (`2025-11-06`) for which usage and cost answer 500 in any span including them. */
  failDays?: string[];
  /** "Today" for bills and the forecast (Unix s; default the real now). */
  now?: number;
  /** Headers every request must carry (name lower case → value). */
  requireHeaders?: Record<string, string>;
  /**
   * Southwest Gas's sign-in (T swgas.py): a warm-up `GET /ei/x/sign-in-wall?source=intercepted`
   * must have set its cookie, and the sign-in carries `Origin`; `204` answers with the session
   * cookie as usual, `token` answers 200 with `{"sessionToken": …}` used as a bearer token.
   */
  signinWall?: '204' | 'token';
  /** Whether the GraphQL endpoint exists (default true). */
  graphql?: boolean;
}

/** How {@link OpowerPortal.setMaintenance} answers. */
export interface MaintenanceMode {
  status: 503 | 200;
  count?: number;
  retryAfter?: number;
  match?: string;
}

/** One request as the portal saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  userAgent: string;
  /** The `Opower-Selected-Entities` header, when sent. */
  selected?: string;
  headers: Record<string, string>;
}

/** A running fake portal. */
export interface OpowerPortal {
  url: string;
  stop(): Promise<void>;
  requests: SeenRequest[];
  /** Requests whose path contains `part`. */
  count(part?: string): number;
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Every session cookie value handed out (tests check none is printed). */
  sessionCookies: string[];
  /** From now on, estimated hours are served as ACTUAL with their true value. */
  correctEstimates(): void;
  /** End every session; the next data request answers 401 or a redirect (`expiredAs`). */
  expireSessions(as?: '401' | 'redirect'): void;
  /** A new session as a bearer token (what a utility's own sign-in hands over). */
  issueBearer(): string;
  /**
   * Move the portal in time (a soak's pinned clock): "today" for bills and the forecast, the
   * metering horizon (hours from `meteredUntil` on are trailing zeros: data arriving late),
   * the days that answer 500, and how many data requests a session lasts.
   */
  configure(state: { now?: number; meteredUntil?: number; failDays?: string[]; sessionMaxRequests?: number }): void;
  /** Answer the next `count` requests (default all, until cleared) whose path contains `match` with an HTML maintenance page. */
  setMaintenance(mode?: MaintenanceMode): void;
  /** Answer the next `count` data requests with 429 and `Retry-After: retryAfter`. */
  rateLimit(count: number, retryAfter: number): void;
  /** True kWh (or CCF, gallon) of an account's hour starting at `t`, as served when actual. */
  hourValue(uuid: string, t: number): number;
  /** Every account of every customer. */
  accounts: FakeAccount[];
}

/** Longest request, in local days, per `aggregateType` (T's limits). */
export const FAKE_REQUEST_DAYS: Readonly<Record<string, number>> = { quarter_hour: 6, half_hour: 6, hour: 26, day: 363 };
/** Read resolutions for which the portal serves `aggregateType=quarter_hour` (T `SUPPORTED_AGGREGATE_TYPES`). */
export const QUARTER_HOUR_RESOLUTIONS: ReadonlySet<string> = new Set(['QUARTER_HOUR', 'FIVE_MINUTE']);
/** The 500 body of a span the portal cannot answer (error-500-upstream.json). */
export const UPSTREAM_ERROR = (uuid: string): unknown => ({ error: { httpStatus: 500, serviceErrorCode: 'UPSTREAM_ERROR', details: `Could not get rated costs and usages for utility account UUID: ${uuid}` } });

const API = '/ei/edge/apis';
export const FAKE_ACCOUNT: FakeAccount = { uuid: '5f2b1c9e-7a41-4d2e-9a55-0c3e8f6b1d22', meterType: 'ELEC', readResolution: 'HOUR' };
export const FAKE_CUSTOMER_UUID = 'c0ffee00-0000-4000-8000-000000000001';
const DEFAULT_ESTIMATED = ['2025-10-30T14:00', '2025-10-30T15:00', '2026-03-07T09:00'];
const DEFAULT_MISSING = ['2025-11-06T03:00', '2026-03-10T04:00'];
const UNITS = { ELEC: 'KWH', GAS: 'CCF', WATER: 'GAL' } as const;

type Read = { t: number; end: number; value: number; type: 'ACTUAL' | 'ESTIMATED'; costMicros: number; parts: Map<string, { season: string; dayPart: string; value: number; costMicros: number }> };

/** Start the fake portal. */
export async function startOpowerPortal(options: OpowerPortalOptions = {}): Promise<OpowerPortal> {
  const code = options.code ?? 'gwp';
  const zone = options.timezone ?? 'America/Los_Angeles';
  const username = options.username ?? 'homeowner@example.com';
  const password = options.password ?? 'correct-horse-battery';
  const customers: FakeCustomer[] = options.customers ?? [{ uuid: FAKE_CUSTOMER_UUID, accounts: options.accounts ?? [FAKE_ACCOUNT] }];
  const allAccounts = customers.flatMap((c) => c.accounts);
  const clock = new LocalClock(zone);
  const toInstant = (local: string): number => Math.floor(DateTime.fromISO(local, { zone }).toSeconds());
  const estimated = new Set((options.estimatedHours ?? DEFAULT_ESTIMATED).map(toInstant));
  const missing = new Set((options.missingHours ?? DEFAULT_MISSING).map(toInstant));
  const zeros = new Set((options.zeroHours ?? []).map(toInstant));
  let failDays = new Set(options.failDays ?? []);
  let nowSetting = options.now;
  let meteredUntil = options.meteredUntil;
  let sessionMaxRequests = options.sessionMaxRequests;
  const sessions = new Map<string, number>(); // JSESSIONID → data requests made
  let expiredAs = options.expiredAs ?? '401';
  let corrected = false;
  let maintenance: MaintenanceMode | undefined;
  let limited = { count: 0, retryAfter: 0 };
  let inFlight = 0;
  const today = (): string => clock.of(nowSetting ?? Math.floor(Date.now() / 1000)).date;

  // One hour as served right now: undefined when missing; zero when not metered yet.
  const hour = (account: FakeAccount, t: number): Read | undefined => {
    if (missing.has(t)) return undefined;
    const parts = new Map<string, { season: string; dayPart: string; value: number; costMicros: number }>();
    if (meteredUntil !== undefined && t >= meteredUntil) return { t, end: t + 3600, value: 0, type: 'ACTUAL', costMicros: 0, parts };
    const value = zeros.has(t) ? 0 : estimated.has(t) && !corrected ? round(valueOf(account, t, clock) * 0.8, 3) : valueOf(account, t, clock);
    const costMicros = hourCostMicros(account, t, value, clock);
    const tou = touOf(t, clock);
    parts.set(`${tou.season}|${tou.dayPart}`, { season: tou.season, dayPart: tou.dayPart, value, costMicros });
    return { t, end: t + 3600, value, type: estimated.has(t) && !corrected ? 'ESTIMATED' : 'ACTUAL', costMicros, parts };
  };
  // Reads of one aggregate over whole local days: hours, their quarters, or day sums.
  const reads = (account: FakeAccount, aggregate: string, days: DateTime[]): Read[] =>
    days.flatMap((day): Read[] => {
      const hours = clock.hoursOf(day).flatMap((t) => hour(account, t) ?? []);
      if (aggregate === 'hour' || (aggregate === 'quarter_hour' && account.quarterAsHours)) return hours;
      if (aggregate === 'quarter_hour') {
        return hours.flatMap((h) => quarterSplit(h.value, account.uuid, Math.floor(h.t / 3600)).map((value, i) => ({ ...h, t: h.t + 900 * i, end: h.t + 900 * (i + 1), value, costMicros: 0, parts: new Map() })));
      }
      if (hours.length === 0) return [];
      return [sumOf(hours, day.toSeconds(), day.plus({ days: 1 }).toSeconds())];
    });
  const sumOf = (hours: Read[], t: number, end: number): Read => {
    const parts = new Map<string, { season: string; dayPart: string; value: number; costMicros: number }>();
    for (const h of hours) {
      for (const [key, p] of h.parts) {
        const sum = parts.get(key) ?? { season: p.season, dayPart: p.dayPart, value: 0, costMicros: 0 };
        sum.value = round(sum.value + p.value, 3);
        sum.costMicros += p.costMicros;
        parts.set(key, sum);
      }
    }
    const value = Math.round(hours.reduce((s, h) => s + h.value * 1000, 0)) / 1000;
    return { t, end, value, type: hours.some((h) => h.type === 'ESTIMATED') ? 'ESTIMATED' : 'ACTUAL', costMicros: hours.reduce((s, h) => s + h.costMicros, 0), parts };
  };
  const usageJson = (r: Read): unknown => ({ startTime: clock.of(r.t).iso, endTime: clock.of(r.end).iso, providedCost: null, milesDriven: 0, demand: null, consumption: { value: r.value, type: r.type }, exported: null, grossConsumption: null, grossGeneration: null, imported: null, reactivePower: null });
  const costJson = (account: FakeAccount, r: Read): unknown => ({
    startTime: clock.of(r.t).iso,
    endTime: clock.of(r.end).iso,
    value: r.value,
    readType: r.type,
    providedCost: r.costMicros / 1e6,
    readComponents: account.components && r.parts.size > 0 ? [...r.parts.values()].map((p) => ({ tierType: 'ORDINAL', tierNumber: 1, season: p.season, dayPart: p.dayPart, cost: p.costMicros / 1e6, value: p.value })) : null,
    rebateAmount: 0,
    milesDriven: 0,
    isPeakPeriod: null,
  });
  const bills = (account: FakeAccount): Read[] =>
    billPeriods(account, today(), zone).flatMap((p) => {
      if (account.dataStart !== undefined && p.first.toISODate()! < account.dataStart) return [];
      const days: DateTime[] = [];
      for (let d = p.first; d < p.end; d = d.plus({ days: 1 })) days.push(d);
      return [sumOf(reads(account, 'hour', days), p.first.toSeconds(), p.end.toSeconds())];
    });

  const server = createServer((req, res) => {
    inFlight++;
    portal.maxInFlight = Math.max(portal.maxInFlight, inFlight);
    void handle(req, res).finally(() => inFlight--);
  });

  const send = (res: ServerResponse, seen: SeenRequest, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void => {
    seen.status = status;
    if (status === 204 || status === 302) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    const html = typeof body === 'string';
    res.writeHead(status, { 'content-type': html ? 'text/html; charset=utf-8' : 'application/json', ...headers });
    res.end(html ? body : JSON.stringify(body));
  };
  const page = (title: string): string => `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>We'll be back soon.</p></body></html>`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    const seen: SeenRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, userAgent: headers['user-agent'] ?? '', selected: headers['opower-selected-entities'], headers };
    portal.requests.push(seen);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (options.latencyMs) await delay(options.latencyMs);
    if (!/Mozilla\/5\.0/.test(seen.userAgent)) return send(res, seen, 403, page('Access Denied'));
    if (maintenance && (maintenance.match === undefined || url.pathname.includes(maintenance.match))) {
      const mode = maintenance;
      if (mode.count !== undefined && --mode.count <= 0) maintenance = undefined;
      return send(res, seen, mode.status, page('Scheduled Maintenance'), mode.retryAfter !== undefined ? { 'retry-after': String(mode.retryAfter) } : {});
    }
    for (const [name, value] of Object.entries(options.requireHeaders ?? {})) {
      if (headers[name] !== value) return send(res, seen, 403, { error: 'invalid token', error_description: 'jwtAuthority is not found.' });
    }
    const path = url.pathname;
    if (path === '/ei/app/403.html') return send(res, seen, 200, page('Access denied - Sign in'));
    if (options.signinWall && req.method === 'GET' && path === '/ei/x/sign-in-wall') {
      return send(res, seen, 200, page('Sign in'), { 'set-cookie': `SWG_WALL=${randomBytes(8).toString('hex')}; Path=/` });
    }
    if (options.signinWall && req.method === 'POST' && path === `${API}/user-account-control-v1/cws/v1/${code}/account/signin`) {
      // Assumed: without the wall's cookie or the Origin header the edge refuses like other bot checks (403 HTML).
      if (!/(?:^|;\s*)SWG_WALL=/.test(headers.cookie ?? '') || headers.origin === undefined) return send(res, seen, 403, page('Access Denied'));
      if (options.signinWall === 'token') {
        let body: { username?: string; password?: string } = {};
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          /* checked below */
        }
        if (body.username !== username || body.password !== password) return send(res, seen, 401, { error: { code: 'AUTHENTICATION_FAILED', message: 'The username or password you entered is incorrect.' } });
        return send(res, seen, 200, { sessionToken: portal.issueBearer() });
      }
    }
    if (req.method === 'POST' && path === `${API}/user-account-control-v1/cws/v1/${code}/account/signin`) {
      let body: { username?: string; password?: string } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return send(res, seen, 400, { error: { code: 'BAD_REQUEST', message: 'expected a JSON body' } });
      }
      if (body.username !== username || body.password !== password || (options.maxSignins !== undefined && portal.sessionCookies.length >= options.maxSignins)) {
        return send(res, seen, 401, { error: { code: 'AUTHENTICATION_FAILED', message: 'The username or password you entered is incorrect.' } });
      }
      const token = randomBytes(16).toString('hex').toUpperCase();
      sessions.set(token, 0);
      portal.sessionCookies.push(token);
      return send(res, seen, 204, undefined, {
        'set-cookie': [`JSESSIONID=${token}; Path=/; HttpOnly`, `JSESSIONID-samesite=${token}; Path=/; HttpOnly; SameSite=None`, `TS01a2b3c4=01${token.slice(0, 16).toLowerCase()}; Path=/`],
      });
    }
    if (limited.count > 0) {
      limited.count--;
      return send(res, seen, 429, { error: { code: 'TOO_MANY_REQUESTS' } }, { 'retry-after': String(limited.retryAfter) });
    }
    // A session is a cookie (direct sign-in) or a bearer token handed out for a utility's own
    // sign-in (issueBearer; tronikos/opower sends `authorization: Bearer …` when it has one).
    const bearer = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''))?.[1];
    const token = bearer ?? /(?:^|;\s*)JSESSIONID=([^;]+)/.exec(headers.cookie ?? '')?.[1];
    const used = token === undefined ? undefined : sessions.get(token);
    if (token === undefined || used === undefined || (sessionMaxRequests !== undefined && used >= sessionMaxRequests)) {
      if (token !== undefined) sessions.delete(token);
      if (expiredAs === 'redirect') return send(res, seen, 302, undefined, { location: '/ei/app/403.html' });
      return send(res, seen, 401, { error: { code: 'UNAUTHORIZED', message: 'Session expired or missing' } });
    }
    sessions.set(token, used + 1);
    const customer = selectedCustomer(seen.selected);
    if (req.method === 'POST' && path === `${API}/dsm-graphql-v1/cws/graphql`) return graphql(customer, Buffer.concat(chunks).toString('utf8'), res, seen);
    if (req.method !== 'GET') return send(res, seen, 405, { error: { code: 'METHOD_NOT_ALLOWED' } });
    return route(path, url.searchParams, customer, res, seen);
  }

  function selectedCustomer(header: string | undefined): FakeCustomer {
    let urns: unknown;
    try {
      urns = header === undefined ? [] : JSON.parse(header);
    } catch {
      urns = [];
    }
    const uuid = Array.isArray(urns) ? urns.map((u) => /^urn:opower:customer:uuid:(.+)$/.exec(String(u))?.[1]).find((u) => u !== undefined) : undefined;
    return customers.find((c) => c.uuid === uuid) ?? customers[0]!;
  }
  // The account a path names, as the selected customer sees it (see the header comment).
  function accountFor(uuid: string, customer: FakeCustomer): FakeAccount | undefined {
    const own = customer.accounts.find((a) => a.uuid === uuid);
    if (own) return own;
    const named = allAccounts.find((a) => a.uuid === uuid);
    return named && customer.accounts.find((a) => a.meterType === named.meterType);
  }

  function route(path: string, q: URLSearchParams, customer: FakeCustomer, res: ServerResponse, seen: SeenRequest): void {
    const bad = (message: string): void => send(res, seen, 400, { error: { code: 'INVALID_REQUEST', message } });
    const dateParam = (name: string): DateTime | undefined => {
      const text = q.get(name) ?? '';
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return undefined;
      const d = DateTime.fromISO(text, { zone });
      return d.isValid ? d : undefined;
    };
    const instantParam = (name: string): DateTime | undefined => {
      const text = q.get(name) ?? '';
      if (!/T\d{2}:\d{2}/.test(text)) return undefined;
      const d = DateTime.fromISO(text, { setZone: true });
      return d.isValid ? d.setZone(zone) : undefined;
    };
    const daysOf = (start: DateTime, endInclusive: DateTime): DateTime[] => {
      const out: DateTime[] = [];
      for (let d = start.startOf('day'); d <= endInclusive; d = d.plus({ days: 1 })) out.push(d);
      return out;
    };
    const limit = (aggregate: string, days: DateTime[]): string | undefined => {
      const max = FAKE_REQUEST_DAYS[aggregate];
      if (max === undefined) return `unsupported aggregateType ${aggregate}`;
      if (days.length === 0 || days.length > max) return `date range must cover 1 to ${max} days for aggregateType=${aggregate}, got ${days.length}`;
      return undefined;
    };
    const fails = (account: FakeAccount, days: DateTime[]): boolean => days.some((d) => (account.dataStart !== undefined && d.toISODate()! < account.dataStart) || failDays.has(d.toISODate()!));
    if (path === `${API}/multi-account-v1/cws/${code}/customers`) {
      const offset = Number(q.get('offset'));
      const batchSize = Number(q.get('batchSize'));
      if (!Number.isInteger(offset) || !Number.isInteger(batchSize) || batchSize < 1) return bad('offset and batchSize are required');
      const page = customers.slice(offset, offset + batchSize).map((c, ci) => ({
        id: 10000001 + ci,
        uuid: c.uuid,
        accountNumber: `100000000${ci}`,
        type: 'RESIDENTIAL',
        utilityAccounts: c.accounts.map((a, i) => ({ id: 20000001 + i, uuid: a.uuid, utilityAccountId: `10000${ci}${i}`, preferredUtilityAccountId: `10000${ci}${i}`, servicePointId: 3000001 + i, meterType: a.meterType, readResolution: a.readResolution ?? 'HOUR' })),
      }));
      return send(res, seen, 200, { customers: page, offset, batchSize, total: customers.length });
    }
    const usage = new RegExp(`^${API}/DataBrowser-v1/cws/utilities/${code}/utilityAccounts/([^/]+)/reads$`).exec(path);
    if (usage) {
      const account = accountFor(usage[1]!, customer);
      if (!account) return send(res, seen, 403, { error: 'no active accounts', error_description: 'There are no active accounts' });
      const aggregate = q.get('aggregateType') ?? '';
      const unit = account.unit ?? UNITS[account.meterType];
      const resolution = account.readResolution ?? 'HOUR';
      if (aggregate === 'bill') return send(res, seen, 200, { units: { consumption: unit }, reads: bills(account).map(usageJson) });
      if (resolution === 'BILLING') return bad(`aggregateType=${aggregate} is not available for readResolution BILLING`);
      if (aggregate === 'hour' && resolution === 'DAY') return bad('hourly reads are not available for this account');
      if (aggregate === 'quarter_hour' && !QUARTER_HOUR_RESOLUTIONS.has(resolution)) return bad(`quarter_hour reads are not available for readResolution ${resolution}`);
      const start = dateParam('startDate');
      const end = dateParam('endDate');
      if (!start || !end) return bad('startDate and endDate must be dates (YYYY-MM-DD)');
      const days = daysOf(start, end);
      const wrong = limit(aggregate, days);
      if (wrong) return bad(wrong);
      if (fails(account, days)) return send(res, seen, 500, UPSTREAM_ERROR(account.uuid));
      return send(res, seen, 200, { startDate: start.toISODate(), endDate: end.toISODate(), units: { consumption: unit }, reads: reads(account, aggregate, days).map(usageJson) });
    }
    const cost = new RegExp(`^${API}/DataBrowser-v1/cws/cost/utilityAccount/([^/]+)$`).exec(path);
    if (cost) {
      const account = accountFor(cost[1]!, customer);
      if (!account) return send(res, seen, 403, { error: 'no active accounts', error_description: 'There are no active accounts' });
      const aggregate = q.get('aggregateType') ?? '';
      const envelope = (list: unknown[], ratePlans: unknown = null): unknown => ({ servicePointId: '9000000001', utilityAccountUuid: account.uuid, unit: account.unit ?? UNITS[account.meterType], siteTimeZoneId: zone, reads: list, seriesComponents: null, ratePlans });
      if (aggregate === 'bill') return send(res, seen, 200, envelope(bills(account).map((r) => costJson(account, r))));
      const start = instantParam('startDate');
      const end = instantParam('endDate');
      if (!start || !end) return bad('startDate and endDate must be date-times with an offset');
      const days = daysOf(start, end.minus({ seconds: 1 }).startOf('day'));
      const wrong = limit(aggregate, days);
      if (wrong) return bad(wrong);
      if (account.cost === 'error500' || fails(account, days)) return send(res, seen, 500, UPSTREAM_ERROR(account.uuid));
      if (account.cost === 'ratePlans') return send(res, seen, 200, envelope([], [{ code: 'HETOUC/NEM2/CCA', meterType: account.meterType, startDate: '2023-06-12T00:00:00.000-07:00', endDate: null, series: {} }]));
      const served = aggregate === 'hour' && account.hourlyCostAsDaily ? 'day' : aggregate;
      return send(res, seen, 200, envelope(reads(account, served, days).map((r) => costJson(account, r))));
    }
    const weather = new RegExp(`^${API}/DataBrowser-v1/cws/weather/(hourly|daily)$`).exec(path);
    if (weather) {
      if (q.get('useCelsius') !== 'false') return bad('useCelsius=false expected by this fake');
      const hourly = weather[1] === 'hourly';
      let days: DateTime[];
      let from = -Infinity;
      let to = Infinity;
      if (hourly) {
        const start = instantParam('startDate');
        const end = instantParam('endDate');
        if (!start || !end) return bad('startDate and endDate must be date-times with an offset for hourly weather');
        from = start.toSeconds();
        to = end.toSeconds();
        days = daysOf(start, end.minus({ seconds: 1 }));
      } else {
        const start = dateParam('startDate');
        const end = dateParam('endDate');
        if (!start || !end) return bad('startDate and endDate must be dates (YYYY-MM-DD)');
        days = daysOf(start, end);
      }
      const wrong = limit(hourly ? 'hour' : 'day', days);
      if (wrong) return bad(wrong);
      const metered = (t: number): boolean => meteredUntil === undefined || t < meteredUntil;
      const out = days.flatMap((day) => {
        const hours = clock.hoursOf(day).filter(metered);
        if (hourly) return hours.filter((t) => t >= from && t < to).map((t) => ({ date: clock.of(t).iso, meanTemperature: temperature(t) }));
        if (hours.length === 0) return [];
        return [{ date: `${day.toISODate()}T00:00:00.000Z`, meanTemperature: dailyMean(day) }];
      });
      return send(res, seen, 200, { reads: out });
    }
    return send(res, seen, 404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } });
  }

  function graphql(customer: FakeCustomer, body: string, res: ServerResponse, seen: SeenRequest): void {
    if (options.graphql === false) return send(res, seen, 404, { error: { code: 'NOT_FOUND' } });
    let query = '';
    try {
      query = String((JSON.parse(body) as { query?: unknown }).query ?? '');
    } catch {
      return send(res, seen, 400, { errors: [{ message: 'expected a JSON body' }] });
    }
    if (!/billForecast/.test(query)) return send(res, seen, 200, { errors: [{ message: 'unknown query' }] });
    const day = today();
    const edges = customer.accounts
      .filter((a) => a.forecast)
      .map((a) => {
        const period = openPeriod(a, day, zone);
        const now = DateTime.fromISO(day, { zone });
        const sum = (from: DateTime, until: DateTime): Read => {
          const days: DateTime[] = [];
          for (let d = from; d < until; d = d.plus({ days: 1 })) days.push(d);
          return sumOf(reads(a, 'hour', days), from.toSeconds(), until.toSeconds());
        };
        const soFar = sum(period.first, now);
        const prior = sum(period.first.minus({ years: 1 }), period.end.minus({ years: 1 }));
        const elapsed = Math.max(1, Math.round(now.diff(period.first, 'days').days));
        const total = Math.round(period.end.diff(period.first, 'days').days);
        return {
          node: {
            billForecast: {
              timeInterval: `${period.first.toISO({ suppressMilliseconds: true })}/${period.end.toISO({ suppressMilliseconds: true })}`,
              currentDateTime: now.toISO({ suppressMilliseconds: true }),
              segments: [
                {
                  serviceAgreement: { uuid: a.uuid },
                  estimatedUsage: { value: round((soFar.value / elapsed) * total, 3), unit: a.meterType === 'GAS' ? 'TH' : (a.unit ?? UNITS[a.meterType]) },
                  estimatedUsageCharges: { value: round((soFar.costMicros / 1e6 / elapsed) * total, 2) },
                  soFarUsage: { value: soFar.value },
                  soFarUsageCharges: { value: round(soFar.costMicros / 1e6, 2) },
                  priorYearUsage: { value: prior.value },
                  priorYearUsageCharges: { value: round(prior.costMicros / 1e6, 2) },
                },
              ],
            },
          },
        };
      });
    return send(res, seen, 200, { data: { billingAccountsConnection: { edges } } });
  }

  const temperature = (t: number): number => {
    const local = clock.of(t);
    return round(62 - 10 * Math.cos((2 * Math.PI * (local.ordinal - 20)) / 365) + 9 * Math.cos((2 * Math.PI * (local.hour - 15)) / 24) + 4 * (hash('wx', Math.floor(t / 3600)) - 0.5), 1);
  };
  const dailyMean = (day: DateTime): number => {
    const hours = clock.hoursOf(day);
    return round(hours.reduce((s, t) => s + temperature(t), 0) / hours.length, 1);
  };

  const portal: OpowerPortal = {
    url: '',
    requests: [],
    maxInFlight: 0,
    sessionCookies: [],
    accounts: allAccounts,
    count: (part) => portal.requests.filter((q) => part === undefined || q.path.includes(part)).length,
    correctEstimates: () => {
      corrected = true;
    },
    expireSessions: (as) => {
      if (as) expiredAs = as;
      sessions.clear();
    },
    setMaintenance: (mode) => {
      maintenance = mode;
    },
    issueBearer: () => {
      const token = randomBytes(24).toString('base64url');
      sessions.set(token, 0);
      portal.sessionCookies.push(token);
      return token;
    },
    configure: (state) => {
      nowSetting = state.now;
      meteredUntil = state.meteredUntil;
      failDays = new Set(state.failDays ?? []);
      sessionMaxRequests = state.sessionMaxRequests;
    },
    rateLimit: (count, retryAfter) => {
      limited = { count, retryAfter };
    },
    hourValue: (uuid, t) => (zeros.has(t) ? 0 : valueOf(allAccounts.find((a) => a.uuid === uuid), t, clock)),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  portal.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return portal;
}
