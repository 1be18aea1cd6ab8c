/**
 * A fake Opower portal (`https://{sub}.opower.com`) on 127.0.0.1, port 0, speaking the
 * endpoints the opower agent uses with the real paths, query parameters, cookie session,
 * status codes and JSON shapes, and the quirks that matter:
 *
 * - sign-in (`POST …/user-account-control-v1/cws/v1/{code}/account/signin`) sets an
 *   `ei-session` cookie; bad credentials → 401 JSON; requests without it → 401;
 * - a session expires after `sessionMaxRequests` data requests (or on `expireSessions()`);
 * - read times carry the local offset, so 2025-11-02 has two 01:00 hours (-07:00, -08:00)
 *   and 2026-03-08 has no 02:00; hour requests over 26 days and day requests over 363 → 400;
 * - `aggregateType=quarter_hour` only for accounts whose `readResolution` is QUARTER_HOUR or
 *   FIVE_MINUTE, at most 6 days a request (else 400); the four quarters of an hour add up to
 *   the hour's read exactly (to the Wh), so the fall-back day has 100 quarter hours;
 * - some hours are ESTIMATED until `correctEstimates()`, some are missing altogether;
 * - `setMaintenance()` answers an HTML page (503 or 200); `rateLimit()` answers 429 with
 *   Retry-After; a non-browser User-Agent gets a 403 HTML page (the edge filter);
 * - optional latency per request; every request is counted, with the peak in flight.
 *
 * Values are pure functions of (account, hour), so every run sees the same data.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { DateTime } from 'luxon';

/** One utility account of the fake customer. */
export interface FakeAccount {
  uuid: string;
  meterType: 'ELEC' | 'GAS' | 'WATER';
  readResolution?: 'BILLING' | 'DAY' | 'HOUR' | 'HALF_HOUR' | 'QUARTER_HOUR' | 'FIVE_MINUTE';
}

/** Options for {@link startOpowerPortal}. */
export interface OpowerPortalOptions {
  code?: string;
  timezone?: string;
  username?: string;
  password?: string;
  accounts?: FakeAccount[];
  /** Delay before answering each request, in ms. */
  latencyMs?: number;
  /** A session answers 401 after this many data requests (default unlimited). */
  sessionMaxRequests?: number;
  /** Local hours (`2025-10-30T14:00`, in `timezone`) served as ESTIMATED until corrected. */
  estimatedHours?: string[];
  /** Local hours not served at all. */
  missingHours?: string[];
  /** Sign-ins after this many successful ones are refused with 401 (a password changed elsewhere). */
  maxSignins?: number;
  /** Reads starting at or after this instant (Unix s) are not there yet. */
  availableUntil?: number;
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
  /** Invalidate every session (the next data request answers 401). */
  expireSessions(): void;
  /**
   * Answer the next `count` requests (default all, until cleared) whose path contains `match`
   * (default every path) with an HTML maintenance page.
   */
  setMaintenance(mode?: MaintenanceMode): void;
  /** Answer the next `count` data requests with 429 and `Retry-After: retryAfter`. */
  rateLimit(count: number, retryAfter: number): void;
  /** True kWh (or therm, gallon) of an account's hour starting at `t`, as served when actual. */
  hourValue(uuid: string, t: number): number;
}

/** Longest request, in local days, per `aggregateType` (the real portal's limits). */
export const FAKE_REQUEST_DAYS: Readonly<Record<string, number>> = { quarter_hour: 6, hour: 26, day: 363 };
/** Read resolutions for which the portal serves `aggregateType=quarter_hour`. */
export const QUARTER_HOUR_RESOLUTIONS: ReadonlySet<string> = new Set(['QUARTER_HOUR', 'FIVE_MINUTE']);

const API = '/ei/edge/apis';
export const FAKE_ACCOUNT: FakeAccount = { uuid: '5f2b1c9e-7a41-4d2e-9a55-0c3e8f6b1d22', meterType: 'ELEC', readResolution: 'HOUR' };
const DEFAULT_ESTIMATED = ['2025-10-30T14:00', '2025-10-30T15:00', '2026-03-07T09:00'];
const DEFAULT_MISSING = ['2025-11-06T03:00', '2026-03-10T04:00'];
const UNITS = { ELEC: 'KWH', GAS: 'THERM', WATER: 'GAL' } as const;
const RATE_USD_PER_UNIT = 0.3125;

function hash(text: string, n: number): number {
  let x = n >>> 0;
  for (let i = 0; i < text.length; i++) x = Math.imul(x ^ text.charCodeAt(i), 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
}
const r = (v: number, digits: number): number => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Split an hour's read (3 decimals) into four quarter-hour reads that add up to it exactly:
 * the split is done in integer thousandths, so no rounding is lost and none is negative.
 */
export function quarterSplit(value: number, seed: string, hour: number): number[] {
  const total = Math.round(value * 1000);
  const weights = [0, 1, 2, 3].map((i) => 1 + hash(seed, hour * 4 + i));
  const sum = weights.reduce((a, b) => a + b, 0);
  const parts = weights.slice(0, 3).map((w) => Math.floor((total * w) / sum));
  parts.push(total - parts.reduce((a, b) => a + b, 0));
  return parts.map((p) => p / 1000);
}

/** Start the fake portal. */
export async function startOpowerPortal(options: OpowerPortalOptions = {}): Promise<OpowerPortal> {
  const code = options.code ?? 'gwp';
  const zone = options.timezone ?? 'America/Los_Angeles';
  const username = options.username ?? 'homeowner@example.com';
  const password = options.password ?? 'correct-horse-battery';
  const accounts = options.accounts ?? [FAKE_ACCOUNT];
  const toInstant = (local: string): number => Math.floor(DateTime.fromISO(local, { zone }).toSeconds());
  const estimated = new Set((options.estimatedHours ?? DEFAULT_ESTIMATED).map(toInstant));
  const missing = new Set((options.missingHours ?? DEFAULT_MISSING).map(toInstant));
  const sessions = new Map<string, number>(); // cookie value → data requests made
  let corrected = false;
  let maintenance: MaintenanceMode | undefined;
  let limited = { count: 0, retryAfter: 0 };
  let inFlight = 0;

  // luxon's zone lookups dominate a 3-year backfill; each hour's local facts are computed once.
  const localCache = new Map<number, { iso: string; hour: number; ordinal: number }>();
  const localOf = (t: number): { iso: string; hour: number; ordinal: number } => {
    let info = localCache.get(t);
    if (!info) {
      const dt = DateTime.fromSeconds(t, { zone });
      info = { iso: dt.toISO({ suppressMilliseconds: true })!, hour: dt.hour, ordinal: dt.ordinal };
      localCache.set(t, info);
    }
    return info;
  };
  const hourValue = (uuid: string, t: number): number => {
    const account = accounts.find((a) => a.uuid === uuid);
    const hour = localOf(t).hour;
    const base = account?.meterType === 'GAS' ? 0.02 + (hour >= 6 && hour < 9 ? 0.15 : 0) : account?.meterType === 'WATER' ? (hour >= 6 && hour < 22 ? 4 : 0.5) : 0.25 + (hour >= 17 && hour < 22 ? 0.9 : 0) + (hour >= 6 && hour < 9 ? 0.35 : 0);
    return r(base * (0.7 + 0.6 * hash(uuid, Math.floor(t / 3600))), 3);
  };
  // What the portal serves for an hour right now: undefined when missing or not there yet.
  const served = (uuid: string, t: number): { value: number; type: 'ACTUAL' | 'ESTIMATED' } | undefined => {
    if (missing.has(t) || (options.availableUntil !== undefined && t >= options.availableUntil)) return undefined;
    if (estimated.has(t) && !corrected) return { value: r(hourValue(uuid, t) * 0.8, 3), type: 'ESTIMATED' };
    return { value: hourValue(uuid, t), type: 'ACTUAL' };
  };
  const temperature = (t: number): number => {
    const local = localOf(t);
    return r(62 - 10 * Math.cos((2 * Math.PI * (local.ordinal - 20)) / 365) + 9 * Math.cos((2 * Math.PI * (local.hour - 15)) / 24) + 4 * (hash('wx', Math.floor(t / 3600)) - 0.5), 1);
  };
  const hoursOf = (day: DateTime): number[] => {
    const out: number[] = [];
    const end = day.plus({ days: 1 }).toSeconds();
    for (let t = day.toSeconds(); t < end; t += 3600) out.push(t);
    return out;
  };
  const iso = (t: number): string => localOf(t).iso;
  // Local days from startDate to endDate, both included.
  const daysOf = (start: DateTime, endInclusive: DateTime): DateTime[] => {
    const out: DateTime[] = [];
    for (let d = start.startOf('day'); d <= endInclusive; d = d.plus({ days: 1 })) out.push(d);
    return out;
  };
  const usage = (uuid: string, aggregate: string, days: DateTime[]): unknown[] =>
    days.flatMap((day) => {
      const hours = hoursOf(day).map((t) => ({ t, read: served(uuid, t) }));
      if (aggregate === 'hour') {
        return hours.flatMap(({ t, read }) => (read ? [{ startTime: iso(t), endTime: iso(t + 3600), consumption: { value: read.value, type: read.type } }] : []));
      }
      if (aggregate === 'quarter_hour') {
        return hours.flatMap(({ t, read }) =>
          read
            ? quarterSplit(read.value, uuid, Math.floor(t / 3600))
                .map((value, i) => ({ t: t + 900 * i, value }))
                .filter((q) => options.availableUntil === undefined || q.t < options.availableUntil)
                .map((q) => ({ startTime: iso(q.t), endTime: iso(q.t + 900), consumption: { value: q.value, type: read.type } }))
            : [],
        );
      }
      const present = hours.filter((h) => h.read);
      if (present.length === 0) return [];
      const type = present.some((h) => h.read!.type === 'ESTIMATED') ? 'ESTIMATED' : 'ACTUAL';
      const total = r(present.reduce((sum, h) => sum + h.read!.value, 0), 3);
      return [{ startTime: iso(day.toSeconds()), endTime: iso(day.plus({ days: 1 }).toSeconds()), consumption: { value: total, type } }];
    });

  const server = createServer((req, res) => {
    inFlight++;
    portal.maxInFlight = Math.max(portal.maxInFlight, inFlight);
    void handle(req, res).finally(() => inFlight--);
  });

  const send = (res: ServerResponse, seen: SeenRequest, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    seen.status = status;
    const html = typeof body === 'string';
    res.writeHead(status, { 'content-type': html ? 'text/html; charset=utf-8' : 'application/json', ...headers });
    res.end(html ? body : JSON.stringify(body));
  };
  const page = (title: string): string => `<!DOCTYPE html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>We'll be back soon.</p></body></html>`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const seen: SeenRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, userAgent: String(req.headers['user-agent'] ?? '') };
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
    const path = url.pathname;
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
      const token = randomBytes(24).toString('hex');
      sessions.set(token, 0);
      portal.sessionCookies.push(token);
      return send(res, seen, 200, { status: 'SUCCESS' }, { 'set-cookie': `ei-session=${token}; Path=/; HttpOnly; SameSite=Lax` });
    }
    if (req.method !== 'GET') return send(res, seen, 405, { error: { code: 'METHOD_NOT_ALLOWED' } });
    if (limited.count > 0) {
      limited.count--;
      return send(res, seen, 429, { error: { code: 'TOO_MANY_REQUESTS' } }, { 'retry-after': String(limited.retryAfter) });
    }
    const token = /(?:^|;\s*)ei-session=([^;]+)/.exec(String(req.headers.cookie ?? ''))?.[1];
    const used = token === undefined ? undefined : sessions.get(token);
    if (token === undefined || used === undefined || (options.sessionMaxRequests !== undefined && used >= options.sessionMaxRequests)) {
      if (token !== undefined) sessions.delete(token);
      return send(res, seen, 401, { error: { code: 'UNAUTHORIZED', message: 'Session expired or missing' } });
    }
    sessions.set(token, used + 1);
    return route(path, url.searchParams, res, seen);
  }

  function route(path: string, q: URLSearchParams, res: ServerResponse, seen: SeenRequest): void {
    const bad = (message: string): void => send(res, seen, 400, { error: { code: 'INVALID_REQUEST', message } });
    const localDate = (name: string): DateTime | undefined => {
      const d = DateTime.fromISO(q.get(name) ?? '', { zone });
      return d.isValid ? d : undefined;
    };
    const span = (aggregate: string): { days: DateTime[] } | string => {
      const start = localDate('startDate');
      const end = localDate('endDate');
      if (!start || !end) return 'startDate and endDate must be dates';
      const days = daysOf(start, end.startOf('day'));
      const max = FAKE_REQUEST_DAYS[aggregate] ?? 0;
      if (max === 0) return `unsupported aggregateType ${aggregate}`;
      if (days.length === 0 || days.length > max) return `date range must cover 1 to ${max} days for aggregateType=${aggregate}, got ${days.length}`;
      return { days };
    };
    if (path === `${API}/multi-account-v1/cws/${code}/customers`) {
      if (q.get('offset') === null || q.get('batchSize') === null) return bad('offset and batchSize are required');
      const utilityAccounts = accounts.map((a, i) => ({ uuid: a.uuid, utilityAccountId: `10000${i}`, preferredUtilityAccountId: `10000${i}`, meterType: a.meterType, readResolution: a.readResolution ?? 'HOUR', status: 'ACTIVE' }));
      return send(res, seen, 200, { customers: [{ uuid: 'c0ffee00-0000-4000-8000-000000000001', utilityCustomerId: '77001', utilityAccounts }], totalCount: 1 });
    }
    const reads = new RegExp(`^${API}/DataBrowser-v1/cws/utilities/${code}/utilityAccounts/([^/]+)/reads$`).exec(path);
    if (reads) {
      const account = accounts.find((a) => a.uuid === reads[1]);
      if (!account) return send(res, seen, 404, { error: { code: 'NOT_FOUND' } });
      const aggregate = q.get('aggregateType') ?? '';
      if (aggregate === 'hour' && account.readResolution === 'DAY') return bad('hourly reads are not available for this account');
      if (aggregate === 'quarter_hour' && !QUARTER_HOUR_RESOLUTIONS.has(account.readResolution ?? 'HOUR')) return bad(`quarter_hour reads are not available for readResolution ${account.readResolution ?? 'HOUR'}`);
      const s = span(aggregate);
      if (typeof s === 'string') return bad(s);
      return send(res, seen, 200, { reads: usage(account.uuid, aggregate, s.days), unit: UNITS[account.meterType], accountUuid: account.uuid });
    }
    const cost = new RegExp(`^${API}/DataBrowser-v1/cws/cost/utilityAccount/([^/]+)$`).exec(path);
    if (cost) {
      const account = accounts.find((a) => a.uuid === cost[1]);
      if (!account) return send(res, seen, 404, { error: { code: 'NOT_FOUND' } });
      const aggregate = q.get('aggregateType') ?? '';
      const start = DateTime.fromISO(q.get('startDate') ?? '', { setZone: true });
      const end = DateTime.fromISO(q.get('endDate') ?? '', { setZone: true });
      if (!start.isValid || !end.isValid || !/T/.test(q.get('startDate') ?? '')) return bad('startDate and endDate must be date-times with an offset');
      const days = daysOf(start.setZone(zone), end.setZone(zone).minus({ seconds: 1 }).startOf('day'));
      if (days.length > (FAKE_REQUEST_DAYS[aggregate] ?? 363)) return bad(`date range too long for aggregateType=${aggregate}`);
      const out = usage(account.uuid, aggregate, days).map((read) => {
        const { startTime, endTime, consumption } = read as { startTime: string; endTime: string; consumption: { value: number } };
        return { startTime, endTime, value: consumption.value, providedCost: r(consumption.value * RATE_USD_PER_UNIT, 4), readType: 'ACTUAL' };
      });
      return send(res, seen, 200, { reads: out });
    }
    const weather = new RegExp(`^${API}/DataBrowser-v1/cws/weather/(hourly|daily)$`).exec(path);
    if (weather) {
      if (q.get('useCelsius') !== 'false') return bad('useCelsius=false expected by this fake');
      const s = span(weather[1] === 'hourly' ? 'hour' : 'day');
      if (typeof s === 'string') return bad(s);
      const out = s.days.flatMap((day) => {
        const hours = hoursOf(day).filter((t) => options.availableUntil === undefined || t < options.availableUntil);
        if (weather[1] === 'hourly') return hours.map((t) => ({ date: iso(t), meanTemperature: temperature(t) }));
        if (hours.length === 0) return [];
        return [{ date: day.toISODate(), meanTemperature: r(hours.reduce((sum, t) => sum + temperature(t), 0) / hours.length, 1) }];
      });
      return send(res, seen, 200, { reads: out, units: 'F' });
    }
    return send(res, seen, 404, { error: { code: 'NOT_FOUND', message: `no route for ${path}` } });
  }

  const portal: OpowerPortal = {
    url: '',
    requests: [],
    maxInFlight: 0,
    sessionCookies: [],
    count: (part) => portal.requests.filter((q) => part === undefined || q.path.includes(part)).length,
    correctEstimates: () => {
      corrected = true;
    },
    expireSessions: () => sessions.clear(),
    setMaintenance: (mode) => {
      maintenance = mode;
    },
    rateLimit: (count, retryAfter) => {
      limited = { count, retryAfter };
    },
    hourValue,
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
