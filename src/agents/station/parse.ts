/**
 * A home weather station's upload → one reading. Pure: the request's fields in, values out.
 *
 * The two protocols (both send US units):
 * - Ecowitt "Customized" upload (GW1000/GW1100/GW2000 gateways, WS2900 consoles; Ambient's
 *   consoles send the same field names as a GET): an `application/x-www-form-urlencoded` POST
 *   with `PASSKEY` (the gateway's MAC as MD5), `dateutc` (`YYYY-MM-DD HH:MM:SS`, UTC), `tempf`,
 *   `humidity`, `tempinf`, `humidityin`, `baromrelin`, `baromabsin` (inHg), `winddir` (°),
 *   `windspeedmph`, `windgustmph`, `solarradiation` (W/m²), `uv`, and rain counters in inches
 *   that the station itself resets: `dailyrainin` (at midnight), `weeklyrainin`,
 *   `monthlyrainin`, `yearlyrainin`, `totalrainin` (never, until the station is reset); the
 *   field names are those of real uploads quoted in public projects (see
 *   test/fixtures/SOURCES.md).
 * - The Weather Underground upload protocol (`GET /weatherstation/updateweatherstation.php`,
 *   spoken by many stations and by Ecowitt's "Wunderground" custom mode): `ID`, `PASSWORD`,
 *   `dateutc` (`now` or a UTC date-time), `tempf`, `humidity`, `baromin`, `winddir`,
 *   `windspeedmph`, `windgustmph`, `rainin` (the last hour's rain, not a counter), `dailyrainin`,
 *   `solarradiation`, `UV`, `indoortempf`, `indoorhumidity` — the WU wiki's "PWS Upload
 *   Protocol" page.
 */

/** One upload's values, in the station's units (°F, %, inHg, mph, in). */
export interface StationReading {
  /** Reading time, Unix seconds; undefined = "now" (the receive time). */
  time?: number;
  outdoorF?: number;
  outdoorHumidity?: number;
  indoorF?: number;
  indoorHumidity?: number;
  relativeInHg?: number;
  absoluteInHg?: number;
  windDirection?: number;
  windMph?: number;
  gustMph?: number;
  solarWm2?: number;
  uv?: number;
  /** The longest-running rain counter the station sent, and which it was. */
  rain?: { inches: number; counter: 'totalrainin' | 'yearlyrainin' | 'monthlyrainin' | 'weeklyrainin' | 'dailyrainin' };
}

/** A field that is present but not what the protocol sends; names the field. */
export class BadFieldError extends Error {
  override name = 'BadFieldError';
}

/** Which protocol an upload used. */
export type Protocol = 'ecowitt' | 'wunderground';

/** Each protocol's value fields → the reading's; any other field (PASSKEY, stationtype, batteries, …) is ignored. */
const FIELDS: Record<Protocol, Record<string, Exclude<keyof StationReading, 'rain' | 'time'>>> = {
  ecowitt: {
    tempf: 'outdoorF',
    humidity: 'outdoorHumidity',
    tempinf: 'indoorF',
    humidityin: 'indoorHumidity',
    baromrelin: 'relativeInHg',
    baromabsin: 'absoluteInHg',
    winddir: 'windDirection',
    windspeedmph: 'windMph',
    windgustmph: 'gustMph',
    solarradiation: 'solarWm2',
    uv: 'uv',
  },
  wunderground: {
    tempf: 'outdoorF',
    humidity: 'outdoorHumidity',
    indoortempf: 'indoorF',
    indoorhumidity: 'indoorHumidity',
    baromin: 'relativeInHg',
    absbaromin: 'absoluteInHg',
    winddir: 'windDirection',
    windspeedmph: 'windMph',
    windgustmph: 'gustMph',
    solarradiation: 'solarWm2',
    UV: 'uv',
  },
};

const RAIN_COUNTERS = ['totalrainin', 'yearlyrainin', 'monthlyrainin', 'weeklyrainin', 'dailyrainin'] as const;

function number(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new BadFieldError(`field "${name}": expected a number, found "${text.slice(0, 20)}"`);
  return value;
}

/** `dateutc`: `now`, or `YYYY-MM-DD HH:MM:SS` (single-digit parts allowed, as some stations send them) in UTC. */
export function parseDateUtc(text: string): number | undefined {
  if (text === '' || text.toLowerCase() === 'now') return undefined;
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T+](\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(text.trim());
  if (!m) throw new BadFieldError(`field "dateutc": expected "now" or YYYY-MM-DD HH:MM:SS, found "${text.slice(0, 30)}"`);
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(time).getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw new BadFieldError(`field "dateutc": not a real date-time: "${text.slice(0, 30)}"`);
  return time / 1000;
}

/** The reading of one upload's fields. Throws {@link BadFieldError} naming the first bad field. */
export function parseUpload(protocol: Protocol, fields: URLSearchParams): StationReading {
  const reading: StationReading = {};
  const map = FIELDS[protocol];
  for (const [name, target] of Object.entries(map)) {
    const text = fields.get(name);
    if (text === null) continue;
    const value = number(name, text);
    if (name.includes('humidity') && (value < 0 || value > 100)) throw new BadFieldError(`field "${name}": expected 0-100 %, found ${value}`);
    if (name === 'winddir' && (value < 0 || value > 360)) throw new BadFieldError(`field "winddir": expected 0-360°, found ${value}`);
    (reading as Record<string, number>)[target] = value;
  }
  for (const counter of RAIN_COUNTERS) {
    const text = fields.get(counter);
    if (text === null) continue;
    const inches = number(counter, text);
    if (inches < 0) throw new BadFieldError(`field "${counter}": expected a rain total of 0 or more, found ${inches}`);
    reading.rain = { inches, counter };
    break;
  }
  const date = fields.get('dateutc');
  if (date !== null) reading.time = parseDateUtc(date);
  return reading;
}
