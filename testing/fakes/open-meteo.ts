/**
 * A local Open-Meteo: `/v1/forecast` (the forecast API, `past_days`/`forecast_days` or
 * `start_date`/`end_date`) and `/v1/archive` (the archive API, `start_date`/`end_date`, back to
 * 1940, a few days behind) on one loopback port.
 *
 * Shapes follow the real payloads in test/fixtures/open-meteo/ (header fields, `hourly_units`,
 * column arrays parallel to `hourly.time`, `null` past the model horizon and where the archive
 * has no data yet); 400 answers are `{"reason":…,"error":true}` with the real API's wording.
 * Values are a pure function of (latitude, longitude, hour), so any two requests agree on the
 * same hour whichever API or range served it. Precipitation at a stamp is the preceding hour's
 * sum, as in the real API.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DateTime, IANAZone } from 'luxon';

/** Which endpoint a request reached. */
export type FakeApi = 'forecast' | 'archive' | 'other';

/** A request the fake received. */
export interface FakeOpenMeteoRequest {
  api: FakeApi;
  path: string;
  params: Record<string, string>;
  status: number;
}

/** A canned bad answer, used for the next `times` matching requests (default: all of them). */
export interface FakeFault {
  api?: 'forecast' | 'archive';
  times?: number;
  status?: number;
  /** `Retry-After` header value. */
  retryAfter?: string;
  body?: string;
  contentType?: string;
  /** Accept the request and never answer (a timeout). */
  hang?: boolean;
}

/** Ready-made faults that look like the real service's. */
export const FAULTS = {
  rateLimited: (retryAfter: number): FakeFault => ({
    status: 429,
    retryAfter: String(retryAfter),
    contentType: 'application/json; charset=utf-8',
    body: JSON.stringify({ reason: 'Minutely API request limit exceeded. Please try again in one minute.', error: true }),
  }),
  serverError: (): FakeFault => ({ status: 500, contentType: 'text/plain', body: 'Internal Server Error' }),
  unavailable: (retryAfter: number): FakeFault => ({ status: 503, retryAfter: String(retryAfter), contentType: 'text/html', body: '<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>' }),
  maintenancePage: (): FakeFault => ({
    status: 200,
    contentType: 'text/html; charset=utf-8',
    body: '<!DOCTYPE html>\n<html><head><title>Open-Meteo maintenance</title></head><body><p>We are upgrading our servers, back in a few minutes.</p></body></html>',
  }),
  wrongShape: (): FakeFault => ({ status: 200, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ latitude: 1, longitude: 2, hourly: { temperature_2m: [1, 2] } }) }),
  badRequest: (reason: string): FakeFault => ({ status: 400, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ reason, error: true }) }),
} as const;

/** Options of {@link startOpenMeteo}. */
export interface FakeOpenMeteoOptions {
  /** The fake's clock in Unix seconds (default the real one). */
  now?: () => number;
  /** Days before today (UTC) from which the archive has only nulls (default 5). */
  archiveLagDays?: number;
  /** Hours after now up to which the forecast has values; null beyond (default 7 days). */
  forecastHorizonHours?: number;
}

/** A running fake. */
export interface FakeOpenMeteo {
  url: string;
  /** Every request so far, in order. */
  requests: FakeOpenMeteoRequest[];
  /** Answer the next matching requests with a fault. */
  fail(fault: FakeFault): void;
  /** Forget requests and faults. */
  reset(): void;
  stop(): Promise<void>;
}

const DAY = 86400;
const HOURLY_KNOWN = new Set(['temperature_2m', 'relative_humidity_2m', 'precipitation', 'dew_point_2m', 'wind_speed_10m', 'weather_code', 'is_day']);

class BadRequest extends Error {}

// Integer hash → [0, 1): deterministic per location and hour.
function noise(salt: number, t: number, lat: number, lon: number): number {
  let x = (Math.floor(t / 3600) ^ Math.imul(salt, 0x9e3779b9) ^ Math.imul(Math.round(lat * 100), 0x85ebca6b) ^ Math.imul(Math.round(lon * 100), 0xc2b2ae35)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  x ^= x >>> 16;
  return (x >>> 0) / 4294967296;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The fake's temperature in °C at stamp `t` (unrounded), exported so tests can reason about it. */
export function fakeTemperatureC(t: number, lat: number, lon: number): number {
  const seasonal = 14 - 9 * Math.cos((2 * Math.PI * ((t / DAY) % 365.25)) / 365.25) * Math.sign(lat || 1);
  const solarHour = (((t % DAY) / 3600 + lon / 15) % 24 + 24) % 24;
  return seasonal + 6 * Math.cos((2 * Math.PI * (solarHour - 15)) / 24) + (noise(1, t, lat, lon) - 0.5) * 3;
}

function values(variable: string, t: number, lat: number, lon: number, units: { fahrenheit: boolean; inch: boolean }): number {
  const celsius = fakeTemperatureC(t, lat, lon);
  switch (variable) {
    case 'temperature_2m':
      return units.fahrenheit ? round(celsius * 1.8 + 32, 1) : round(celsius, 1);
    case 'relative_humidity_2m':
      return Math.max(5, Math.min(100, Math.round(75 - (celsius - 14) * 2 + (noise(2, t, lat, lon) - 0.5) * 20)));
    case 'precipitation': {
      const r = noise(3, t, lat, lon);
      const mm = r > 0.85 ? round((r - 0.85) * 20, 1) : 0;
      return units.inch ? round(mm / 25.4, 3) : mm;
    }
    default:
      return round(noise(4, t, lat, lon) * 10, 1);
  }
}

function number(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new BadRequest(`Parameter '${name}' could not be parsed as a number: '${raw}'`);
  return value;
}

function date(params: URLSearchParams, name: string): DateTime | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const parsed = DateTime.fromISO(raw, { zone: 'UTC' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || !parsed.isValid) throw new BadRequest(`Invalid date format. Make sure to use 'YYYY-MM-DD'`);
  return parsed;
}

const iso = (d: DateTime): string => d.toISODate()!;

/** Start a fake Open-Meteo on 127.0.0.1, port 0. */
export async function startOpenMeteo(options: FakeOpenMeteoOptions = {}): Promise<FakeOpenMeteo> {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const archiveLagDays = options.archiveLagDays ?? 5;
  const horizon = options.forecastHorizonHours ?? 7 * 24;
  const requests: FakeOpenMeteoRequest[] = [];
  let faults: FakeFault[] = [];

  function answer(api: FakeApi, params: URLSearchParams): { status: number; body: unknown } {
    const lat = number(params, 'latitude');
    const lon = number(params, 'longitude');
    if (lat === undefined || lon === undefined) throw new BadRequest(`Parameter 'latitude' and 'longitude' must have the same number of elements`);
    if (lat < -90 || lat > 90) throw new BadRequest(`Latitude must be in range of -90 to 90°. Given: ${lat.toFixed(1)}.`);
    if (lon < -180 || lon > 180) throw new BadRequest(`Longitude must be in range of -180 to 180°. Given: ${lon.toFixed(1)}.`);
    const hourly = (params.get('hourly') ?? '').split(',').filter((v) => v !== '');
    for (const variable of hourly) if (!HOURLY_KNOWN.has(variable)) throw new BadRequest(`Cannot initialize SurfaceVariable from invalid String value ${variable}.`);
    const temperatureUnit = params.get('temperature_unit') ?? 'celsius';
    if (temperatureUnit !== 'celsius' && temperatureUnit !== 'fahrenheit') throw new BadRequest(`Cannot initialize TemperatureUnit from invalid String value ${temperatureUnit}.`);
    const precipitationUnit = params.get('precipitation_unit') ?? 'mm';
    if (precipitationUnit !== 'mm' && precipitationUnit !== 'inch') throw new BadRequest(`Cannot initialize PrecipitationUnit from invalid String value ${precipitationUnit}.`);
    const timeformat = params.get('timeformat') ?? 'iso8601';
    if (timeformat !== 'iso8601' && timeformat !== 'unixtime') throw new BadRequest(`Cannot initialize Timeformat from invalid String value ${timeformat}.`);
    const tzName = params.get('timezone') ?? 'GMT';
    const zone = tzName === 'GMT' || tzName === 'UTC' || tzName === 'auto' ? 'UTC' : tzName;
    if (!IANAZone.isValidZone(zone)) throw new BadRequest(`Invalid timezone`);

    const t = now();
    const today = DateTime.fromSeconds(t, { zone }).startOf('day');
    let first: DateTime;
    let last: DateTime;
    const start = date(params, 'start_date');
    const end = date(params, 'end_date');
    if (api === 'archive') {
      if (start === undefined || end === undefined) throw new BadRequest(`Parameter 'start_date' and 'end_date' are required`);
      const max = DateTime.fromSeconds(t, { zone: 'UTC' }).startOf('day');
      for (const [name, value] of [['start_date', start], ['end_date', end]] as const) {
        if (value.toISODate()! < '1940-01-01' || value > max) throw new BadRequest(`Parameter '${name}' is out of allowed range from 1940-01-01 to ${iso(max)}`);
      }
      if (end < start) throw new BadRequest(`End-date must be larger or equals than start-date`);
      [first, last] = [start, end];
    } else if (start !== undefined || end !== undefined) {
      if (params.has('past_days') || params.has('forecast_days')) throw new BadRequest(`Parameter 'past_days' is mutually exclusive with 'start_date' and 'end_date'`);
      if (start === undefined || end === undefined) throw new BadRequest(`Both 'start_date' and 'end_date' must be set in the url`);
      if (end < start) throw new BadRequest(`End-date must be larger or equals than start-date`);
      [first, last] = [start, end];
    } else {
      const pastDays = number(params, 'past_days') ?? 0;
      const forecastDays = number(params, 'forecast_days') ?? 7;
      if (!Number.isInteger(pastDays) || pastDays < 0 || pastDays > 92) throw new BadRequest(`Past days is invalid. Allowed range 0 to 92. Given ${pastDays}.`);
      if (!Number.isInteger(forecastDays) || forecastDays < 0 || forecastDays > 16) throw new BadRequest(`Forecast days is invalid. Allowed range 0 to 16. Given ${forecastDays}.`);
      first = today.minus({ days: pastDays });
      last = today.plus({ days: forecastDays - 1 });
    }
    const from = Math.floor(DateTime.fromISO(iso(first), { zone }).toSeconds());
    const to = Math.floor(DateTime.fromISO(iso(last), { zone }).plus({ days: 1 }).toSeconds());
    const archiveEnd = Math.floor(t / DAY) * DAY - archiveLagDays * DAY;
    const times: number[] = [];
    for (let s = from; s < to; s += 3600) times.push(s);
    const units = { fahrenheit: temperatureUnit === 'fahrenheit', inch: precipitationUnit === 'inch' };
    const hasValue = (s: number): boolean => (api === 'archive' ? s < archiveEnd : s <= t + horizon * 3600);
    const columns: Record<string, unknown[]> = {
      time: timeformat === 'unixtime' ? times : times.map((s) => DateTime.fromSeconds(s, { zone }).toFormat("yyyy-MM-dd'T'HH:mm")),
    };
    const unitOf: Record<string, string> = { temperature_2m: units.fahrenheit ? '°F' : '°C', relative_humidity_2m: '%', precipitation: units.inch ? 'inch' : 'mm' };
    const hourlyUnits: Record<string, string> = { time: timeformat };
    for (const variable of hourly) {
      columns[variable] = times.map((s) => (hasValue(s) ? values(variable, s, lat, lon, units) : null));
      hourlyUnits[variable] = unitOf[variable] ?? '';
    }
    const offset = DateTime.fromSeconds(from, { zone }).offset * 60;
    return {
      status: 200,
      body: {
        latitude: round(lat, 4) + 0.000002,
        longitude: round(lon, 4) - 0.000003,
        generationtime_ms: 0.123,
        utc_offset_seconds: offset,
        timezone: zone === 'UTC' ? 'GMT' : zone,
        timezone_abbreviation: zone === 'UTC' ? 'GMT' : DateTime.fromSeconds(from, { zone }).toFormat('ZZZZ'),
        elevation: 71,
        ...(hourly.length > 0 ? { hourly_units: hourlyUnits, hourly: columns } : {}),
      },
    };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const api: FakeApi = url.pathname === '/v1/forecast' ? 'forecast' : url.pathname === '/v1/archive' ? 'archive' : 'other';
    const record: FakeOpenMeteoRequest = { api, path: url.pathname, params: Object.fromEntries(url.searchParams), status: 0 };
    requests.push(record);
    const send = (status: number, body: string, headers: Record<string, string>): void => {
      record.status = status;
      res.writeHead(status, headers).end(body);
    };
    const fault = faults.find((f) => f.api === undefined || f.api === api);
    if (fault && api !== 'other') {
      if (fault.times !== undefined && --fault.times <= 0) faults = faults.filter((f) => f !== fault);
      if (fault.hang) return;
      send(fault.status ?? 200, fault.body ?? '', { 'content-type': fault.contentType ?? 'text/plain', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
      return;
    }
    if (api === 'other') {
      send(404, '<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>', { 'content-type': 'text/html' });
      return;
    }
    try {
      const { status, body } = answer(api, url.searchParams);
      send(status, JSON.stringify(body), { 'content-type': 'application/json; charset=utf-8' });
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      send(400, JSON.stringify({ reason: error.message, error: true }), { 'content-type': 'application/json; charset=utf-8' });
    }
  }

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fail: (fault) => void faults.push({ ...fault }),
    reset: () => {
      requests.length = 0;
      faults = [];
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
