/**
 * Issue 8 "Secrets": every script in scripts/, spawned as a real child process in Actions mode
 * (annotations, `::add-mask::`, step summary) with `HOMEFLUX_DEBUG=true`, on its success path
 * and on each failure path, with sentinel values in every secret-looking variable. No sentinel
 * (nor the Basic-auth encoding of one) may appear in stdout, stderr, the step summary or any
 * file under the run's data and spool dirs (rejected/ and .backfill/ included); a URL's
 * credentials always read `***@`. test/database/secrets.test.ts covers the demo's write paths
 * in-process; this file covers the scripts end to end.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type OpowerPortal, startOpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { type FamilyFake, startFamily } from '../../testing/fakes/signin-families.ts';
import { UTILITIES } from '../../src/agents/opower/utilities.ts';
import { seal } from '../../src/state-crypto.ts';
import { type FakeOpenMeteo, startOpenMeteo } from '../../testing/fakes/open-meteo.ts';
import { type Influx2Api, startInflux2Api } from '../../testing/fakes/influx2-api.ts';
import { type ScrapeDevices, startScrapeDevices } from '../../testing/fakes/scrape-devices.ts';
import { type MosquittoServer, startMosquitto } from '../../testing/helpers/mosquitto.ts';
import { freePort } from '../../testing/helpers/ports.ts';
import { type InfluxV1Server, type NutServer, influxV1Client, startInfluxV1, startNut } from '../../testing/helpers/servers.ts';
import { type EchoServer, findLeaks, S, type ScriptRun, sentinels, spawnScript, type SpawnOptions, startEchoServer, startNutEcho, withCredentials } from './secrets-harness.ts';

/** The scrape login's password variable deliberately has a name the configured-secret rule misses: the agent must mask it at run time. */
const SCRAPE_PASSWORD_VAR = 'APC_LOGIN_PW';
const SCRAPE_WRONG_PASSWORD = 'sntl-scrape-wrong-pw-7Hq2';

let influx: InfluxV1Server; // InfluxDB 1.x with auth; its user and password are sentinels
let influx2: Influx2Api; // v2 bucket API fake; its token is a sentinel
let meteo: FakeOpenMeteo;
let portal: OpowerPortal;
let devices: ScrapeDevices;
let nut: NutServer;
let broker: MosquittoServer; // its user and password are sentinels
let echo500: EchoServer;
let echo400: EchoServer;
let nutEcho: EchoServer & { port: number };
let closedUrl: string; // nothing listens there: the database is down
// The big utilities' sign-in families, with the sentinel username/password (and TOTP secret).
let coned: FamilyFake;
let aep: FamilyFake;
let bge: FamilyFake;
let bgeExpired: FamilyFake;
let grid: FamilyFake;
let eversource: FamilyFake;
let pge: FamilyFake;

beforeAll(async () => {
  [influx, influx2, meteo, portal, devices, nut, echo500, echo400, nutEcho] = await Promise.all([
    startInfluxV1({ auth: { username: S.influxUsername, password: S.influxPassword } }),
    startInflux2Api({ token: S.influxToken }),
    startOpenMeteo(),
    startOpowerPortal({ username: S.opowerUsername, password: S.opowerPassword }),
    startScrapeDevices(),
    startNut({ ups: 'test/fixtures/nut/CyberPowerSystems_CP900EPFCLCD.dev' }, { users: `[${S.nutUsername}]\n  password = ${S.nutPassword}\n  upsmon secondary\n` }),
    startEchoServer(500),
    startEchoServer(400),
    startNutEcho(),
  ]);
  broker = await startMosquitto({ username: S.mqttUsername, password: S.mqttPassword });
  const family = (id: string): Promise<FamilyFake> => startFamily(UTILITIES[id]!, { username: S.opowerUsername, password: S.opowerPassword, totpSecret: S.totpSecret });
  [coned, aep, bge, bgeExpired, grid, eversource, pge] = await Promise.all([family('coned'), family('aepohio'), family('bge'), family('bge'), family('nationalgridma'), family('eversource'), family('portlandgeneral')]);
  await broker.publish('zigbee2mqtt/secret_plug', '{"power":12.5,"energy":1.23}', { retain: true });
  closedUrl = `http://127.0.0.1:${await freePort()}`;
  const admin = influxV1Client(influx.url, { username: S.influxUsername, password: S.influxPassword });
  for (const timescale of ['minute', 'hour', 'day', 'week', 'bill']) await admin.createDatabase(`home-${timescale}`);
}, 60_000);

afterAll(async () => {
  await Promise.all([influx, influx2, meteo, portal, devices, nut, echo500, echo400, nutEcho, broker, coned, aep, bge, bgeExpired, grid, eversource, pge].map((server) => server?.stop()));
});

// Where records go on each path.
const v1 = (): Record<string, string> => ({ INFLUX_URL: influx.url, INFLUX_API: 'v1' });
const v1Unauthorized = (): Record<string, string> => ({ ...v1(), INFLUX_PASSWORD: S.influxWrongPassword });
const v1Down = (): Record<string, string> => ({ INFLUX_URL: withCredentials(closedUrl, S.urlUsername, S.urlPassword), INFLUX_API: 'v1' });
const v2Echo = (): Record<string, string> => ({ INFLUX_URL: echo500.url, INFLUX_ORG: 'home' });

const weatherEnv = (base: string): Record<string, string> => ({ WEATHER_LATITUDE: '34.14', WEATHER_LONGITUDE: '-118.25', WEATHER_LOCATION: 'secrets-test', WEATHER_BASE_URL: base, WEATHER_ARCHIVE_BASE_URL: base });
const opowerEnv = (base: string): Record<string, string> => ({ OPOWER_UTILITY: 'gwp', OPOWER_BASE_URL: base, HOMEFLUX_TIMEZONE: 'America/Los_Angeles' });
/** A family fake's environment with the sentinel credentials (the fakes' own TOTP secret and state key are the sentinels too). */
const familyEnv = (fake: FamilyFake, extra: Record<string, string> = {}): Record<string, string> => ({ ...fake.env, OPOWER_USERNAME: S.opowerUsername, OPOWER_PASSWORD: S.opowerPassword, HOMEFLUX_STATE_KEY: S.stateKey, HOMEFLUX_TIMEZONE: 'America/New_York', ...extra });
/** `--login` done beforehand (the code typed in-process), so the spawned run has a kept session. */
const loggedIn = (get: () => FamilyFake): SpawnOptions['prepare'] => async (dir) => {
  const fake = get();
  expect(await fake.login({ ...familyEnv(fake), HOMEFLUX_DATA_DIR: path.join(dir, 'data'), HOMEFLUX_SPOOL_DIR: path.join(dir, 'spool') })).toBe(0);
};
/** A sealed session whose refresh token the identity provider no longer honours. */
const staleSession = (get: () => FamilyFake): SpawnOptions['prepare'] => async (dir) => {
  const fake = get();
  await mkdir(path.join(dir, 'data'), { recursive: true });
  const tenantUrl = `${fake.env.OPOWER_LOGIN_BASE_URL}/euazurebge.onmicrosoft.com/B2C_1A_SignIn_Mobile`;
  await writeFile(path.join(dir, 'data', 'opower-bge-session.sealed'), seal({ refreshToken: S.refreshToken, tenantUrl, account: { accountNumber: '5500123456', isResidential: true, state: 'MD' } }, S.stateKey));
};
const mqttEnv = (password: string = S.mqttPassword): Record<string, string> => ({ MQTT_URL: broker.url, MQTT_PASSWORD: password, MQTT_DEVICES: 'zigbee2mqtt:secret_plug=plug', MQTT_LISTEN: '1' });
const nutEnv = (port: number, password: string = S.nutPassword): Record<string, string> => ({ NUT_HOSTS: `rack=ups@127.0.0.1:${port}`, NUT_PASSWORD: password });

/** A scrape config (written into the run's dir) for the APC card at `base`, login included. */
function scrapeConfig(baseUrl: () => string): SpawnOptions['prepare'] {
  return async (dir) => {
    const base = baseUrl();
    const page = {
      name: 'apc-ups',
      url: `${base}/NMC/upsstat.htm`,
      format: 'html',
      location: 'rack_ups',
      login: { url: `${base}/logon.htm`, usernameEnv: 'APC_LOGIN_USER', passwordEnv: SCRAPE_PASSWORD_VAR },
      values: [{ name: 'load', selector: '#value_RealPowerPct', regex: '([\\d.]+)', unit: '%', measurement: 'ups', field: 'load_percent' }],
    };
    await writeFile(path.join(dir, 'scrape.json'), JSON.stringify({ pages: [page] }));
  };
}
const scrapeEnv = (dir: string, password: string): Record<string, string> => ({ SCRAPE_CONFIG: path.join(dir, 'scrape.json'), APC_LOGIN_USER: devices.username, [SCRAPE_PASSWORD_VAR]: password });

/** A spool with two lines waiting, as a failed earlier run leaves it. */
async function spooled(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'spool', 'home-hour'), { recursive: true });
  const now = Math.floor(Date.now() / 3_600_000) * 3600;
  await writeFile(path.join(dir, 'spool', 'home-hour', '20260101T000000Z-1-0001.lp'), `secrets_test,source=spool value=1 ${now - 7200}\nsecrets_test,source=spool value=2 ${now - 3600}\n`);
}

interface Case extends SpawnOptions {
  name: string;
  code: number;
  /** Proves the path was really taken (the failure we meant, not another one). */
  expect: RegExp;
  /** Extra values that must not appear in this case. */
  secrets?: () => string[];
  /** The output must show a URL with its credentials replaced by `***@`. */
  redactedUrl?: boolean;
  /** More about what this path must leave behind. */
  check?: (run: ScriptRun) => void;
}

/** The contents of the files under `prefix` of the run's dir. */
const filesUnder = (run: ScriptRun, prefix: string): string[] => [...run.files].filter(([name]) => name.startsWith(prefix)).map(([, text]) => text);

const DEMO = ['--since', '1d'];
const WEATHER = ['--since', '3d', '--until', '2d'];
const OPOWER = ['--since', '2026-11-20', '--until', '2026-11-21'];
const GB = (): string[] => ['test/fixtures/greenbutton/pge_gas_daily.csv'];

const cases: Case[] = [
  // demo
  { name: 'demo: success, InfluxDB 1.x with basic auth', script: 'demo', args: () => DEMO, env: v1, code: 0, expect: /line\(s\) written to v1 \*\*\*/ },
  { name: 'demo: success, v2 API (VictoriaMetrics) with a token and credentials in INFLUX_URL', script: 'demo', args: () => DEMO, env: () => ({ INFLUX_URL: withCredentials(inject('vmUrl'), S.urlUsername, S.urlPassword), INFLUX_BUCKET_LABEL: 'secrets_bucket', INFLUX_BUCKET_PREFIX: 'secrets' }), code: 0, expect: /line\(s\) written to v2 \*\*\*/ },
  { name: 'demo: database down', script: 'demo', args: () => DEMO, env: v1Down, code: 1, expect: /is unavailable/ },
  { name: 'demo: database 401', script: 'demo', args: () => DEMO, env: v1Unauthorized, code: 1, expect: /refused the credentials \(HTTP 401/ },
  { name: 'demo: database 500 echoing the request (v2 token)', script: 'demo', args: () => DEMO, env: v2Echo, code: 1, expect: /HTTP 500/ },
  { name: 'demo: database 500 echoing the request (v1 basic auth)', script: 'demo', args: () => DEMO, env: () => ({ INFLUX_URL: echo500.url, INFLUX_API: 'v1' }), code: 1, expect: /HTTP 500/ },
  { name: 'demo: bad configuration', script: 'demo', args: () => DEMO, env: () => ({ INFLUX_URL: `ftp://${S.urlUsername}:${S.urlPassword}@127.0.0.1/`, HOMEFLUX_UNITS: 'kelvin' }), code: 2, expect: /INFLUX_URL is invalid/ },
  // weather
  { name: 'weather: success, v2 API (VictoriaMetrics) with a token', script: 'weather', args: () => WEATHER, env: () => ({ ...weatherEnv(meteo.url), INFLUX_URL: inject('vmUrl'), INFLUX_BUCKET_LABEL: 'secrets_bucket', INFLUX_BUCKET_PREFIX: 'secrets' }), code: 0, expect: /line\(s\) written to v2 \*\*\*/ },
  { name: 'weather: source 500 echoing the request', script: 'weather', args: () => WEATHER, env: () => weatherEnv(echo500.url), code: 1, expect: /500/ },
  { name: 'weather: database down', script: 'weather', args: () => WEATHER, env: () => ({ ...weatherEnv(meteo.url), ...v1Down() }), code: 1, expect: /is unavailable/ },
  { name: 'weather: database 401', script: 'weather', args: () => WEATHER, env: () => ({ ...weatherEnv(meteo.url), ...v1Unauthorized() }), code: 1, expect: /HTTP 401/ },
  { name: 'weather: bad configuration', script: 'weather', args: () => WEATHER, env: () => ({ ...weatherEnv(meteo.url), WEATHER_LATITUDE: '100' }), code: 2, expect: /WEATHER_LATITUDE is invalid/ },
  // opower
  { name: 'opower: success, InfluxDB 1.x', script: 'opower', args: () => OPOWER, env: () => ({ ...opowerEnv(portal.url), ...v1() }), code: 0, expect: /line\(s\) written to v1 \*\*\*/, secrets: () => portal.sessionCookies, check: () => expect(portal.sessionCookies.length).toBeGreaterThan(0) },
  { name: 'opower: wrong password', script: 'opower', args: () => OPOWER, env: () => ({ ...opowerEnv(portal.url), OPOWER_PASSWORD: S.opowerWrongPassword }), code: 1, expect: /401|sign-in|password/i },
  { name: 'opower: source 500 echoing the request', script: 'opower', args: () => OPOWER, env: () => opowerEnv(echo500.url), code: 1, expect: /500/ },
  { name: 'opower: database down', script: 'opower', args: () => OPOWER, env: () => ({ ...opowerEnv(portal.url), ...v1Down() }), code: 1, expect: /is unavailable/, secrets: () => portal.sessionCookies },
  { name: 'opower: database 401', script: 'opower', args: () => OPOWER, env: () => ({ ...opowerEnv(portal.url), ...v1Unauthorized() }), code: 1, expect: /HTTP 401/, secrets: () => portal.sessionCookies },
  // opower: the big utilities' sign-ins (ConEd TOTP, AEP form, Exelon B2C + MFA + kept session, National Grid OIDC)
  { name: 'opower: ConEd with the TOTP secret', script: 'opower', args: () => ['--since', '2026-03-28', '--until', '2026-03-29'], env: () => familyEnv(coned), code: 0, expect: /line\(s\) written to/, secrets: () => coned.issued() },
  { name: 'opower: ConEd without OPOWER_TOTP_SECRET (MFA asked)', script: 'opower', args: () => OPOWER, env: () => familyEnv(coned, { OPOWER_TOTP_SECRET: '' }), code: 1, expect: /OPOWER_TOTP_SECRET is not set/ },
  { name: 'opower: AEP Ohio through its form', script: 'opower', args: () => ['--since', '2026-03-28', '--until', '2026-03-29'], env: () => familyEnv(aep), code: 0, expect: /line\(s\) written to/, secrets: () => aep.issued() },
  { name: 'opower: AEP Ohio, wrong password', script: 'opower', args: () => OPOWER, env: () => familyEnv(aep, { OPOWER_PASSWORD: S.opowerWrongPassword }), code: 1, expect: /refused at the password step/ },
  { name: 'opower: BGE from the sealed session --login kept', script: 'opower', prepare: loggedIn(() => bge), args: () => ['--since', '2026-03-28', '--until', '2026-03-29'], env: () => familyEnv(bge), code: 0, expect: /line\(s\) written to/, secrets: () => bge.issued(), check: (run) => expect(run.files.get('data/opower-bge-session.sealed')).toMatch(/"sealed":1/) },
  { name: 'opower: BGE asks for an e-mailed code and no session is kept', script: 'opower', args: () => OPOWER, env: () => familyEnv(bge), code: 1, expect: /asks for a one-time code sent by e-mail or text \(MFA\)/, secrets: () => bge.issued() },
  { name: 'opower: BGE with an expired kept session', script: 'opower', prepare: staleSession(() => bgeExpired), args: () => OPOWER, env: () => familyEnv(bgeExpired), code: 1, expect: /the kept session can no longer be refreshed/ },
  { name: 'opower --login with no one at standard input', script: 'opower', args: () => ['--login'], env: () => familyEnv(bge), code: 2, expect: /standard input ended before the answer was typed/, secrets: () => bge.issued() },
  { name: 'opower: National Grid (MA) through B2C OpenID Connect', script: 'opower', args: () => ['--since', '2026-03-28', '--until', '2026-03-29'], env: () => familyEnv(grid), code: 0, expect: /line\(s\) written to/, secrets: () => grid.issued() },
  { name: 'opower: Eversource through Okta', script: 'opower', args: () => ['--since', '2026-03-28', '--until', '2026-03-29'], env: () => familyEnv(eversource), code: 0, expect: /line\(s\) written to/, secrets: () => eversource.issued() },
  { name: 'opower: Portland General, wrong password', script: 'opower', args: () => OPOWER, env: () => familyEnv(pge, { OPOWER_PASSWORD: S.opowerWrongPassword }), code: 1, expect: /NotAuthorizedException/ },
  { name: 'opower: bad configuration', script: 'opower', args: () => OPOWER, env: () => ({ ...opowerEnv(portal.url), OPOWER_CONCURRENCY: '99' }), code: 2, expect: /OPOWER_CONCURRENCY is invalid/ },
  // mqtt
  { name: 'mqtt: success, InfluxDB 1.x', script: 'mqtt', env: () => ({ ...mqttEnv(), ...v1() }), code: 0, expect: /line\(s\) written to v1 \*\*\*/ },
  { name: 'mqtt: wrong password', script: 'mqtt', env: () => mqttEnv(S.mqttWrongPassword), code: 1, expect: /refused the login of MQTT_USERNAME/ },
  { name: 'mqtt: database down', script: 'mqtt', env: () => ({ ...mqttEnv(), ...v1Down() }), code: 1, expect: /is unavailable/ },
  { name: 'mqtt: bad configuration', script: 'mqtt', env: () => ({ ...mqttEnv(), MQTT_DEVICES: 'hue:lamp=x' }), code: 2, expect: /MQTT_DEVICES is invalid/ },
  // nut
  { name: 'nut: success, InfluxDB 1.x', script: 'nut', env: () => ({ ...nutEnv(nut.port), ...v1() }), code: 0, expect: /line\(s\) written to v1 \*\*\*/ },
  { name: 'nut: wrong password', script: 'nut', env: () => nutEnv(nut.port, S.nutWrongPassword), code: 1, expect: /ACCESS-DENIED|refused/ },
  { name: 'nut: server echoing every command in an error', script: 'nut', env: () => nutEnv(nutEcho.port), code: 1, expect: /ACCESS-DENIED/ },
  { name: 'nut: database down', script: 'nut', env: () => ({ ...nutEnv(nut.port), ...v1Down() }), code: 1, expect: /is unavailable/ },
  { name: 'nut: database 401', script: 'nut', env: () => ({ ...nutEnv(nut.port), ...v1Unauthorized() }), code: 1, expect: /HTTP 401/ },
  { name: 'nut: bad configuration', script: 'nut', env: () => ({ ...nutEnv(nut.port), NUT_PORT: 'ninety' }), code: 2, expect: /NUT_PORT is invalid/ },
  // greenbutton (no source credentials: the database paths and bad input)
  { name: 'greenbutton: success, InfluxDB 1.x', script: 'greenbutton', args: GB, env: v1, code: 0, expect: /line\(s\) written to v1 \*\*\*/ },
  { name: 'greenbutton: database down', script: 'greenbutton', args: GB, env: v1Down, code: 1, expect: /is unavailable/ },
  { name: 'greenbutton: database 401', script: 'greenbutton', args: GB, env: v1Unauthorized, code: 1, expect: /HTTP 401/ },
  { name: 'greenbutton: database 500 echoing the request', script: 'greenbutton', args: GB, env: v2Echo, code: 1, expect: /HTTP 500/ },
  { name: 'greenbutton: bad configuration (no files)', script: 'greenbutton', env: v1, code: 2, expect: /GREENBUTTON_FILES/ },
  // scrape
  { name: 'scrape: success with a form login, InfluxDB 1.x', script: 'scrape', prepare: scrapeConfig(() => devices.url), env: (dir) => ({ ...scrapeEnv(dir, devices.password), ...v1() }), code: 0, expect: /line\(s\) written to v1 \*\*\*/, secrets: () => [devices.password], check: (run) => expect(run.stdout).toContain(`::add-mask::${devices.password}\n`) },
  { name: 'scrape: wrong login password', script: 'scrape', prepare: scrapeConfig(() => devices.url), env: (dir) => scrapeEnv(dir, SCRAPE_WRONG_PASSWORD), code: 1, expect: /login at .* failed/, secrets: () => [SCRAPE_WRONG_PASSWORD, devices.password] },
  { name: 'scrape: login answered by a 500 echoing the request', script: 'scrape', prepare: scrapeConfig(() => echo500.url), env: (dir) => scrapeEnv(dir, SCRAPE_WRONG_PASSWORD), code: 1, expect: /500/, secrets: () => [SCRAPE_WRONG_PASSWORD] },
  { name: 'scrape: database down', script: 'scrape', prepare: scrapeConfig(() => devices.url), env: (dir) => ({ ...scrapeEnv(dir, devices.password), ...v1Down() }), code: 1, expect: /is unavailable/, secrets: () => [devices.password] },
  { name: 'scrape: database 401', script: 'scrape', prepare: scrapeConfig(() => devices.url), env: (dir) => ({ ...scrapeEnv(dir, devices.password), ...v1Unauthorized() }), code: 1, expect: /HTTP 401/, secrets: () => [devices.password] },
  { name: 'scrape: bad configuration', script: 'scrape', env: (dir) => ({ SCRAPE_CONFIG: path.join(dir, 'missing.yaml'), [SCRAPE_PASSWORD_VAR]: SCRAPE_WRONG_PASSWORD }), code: 2, expect: /SCRAPE_CONFIG/, secrets: () => [SCRAPE_WRONG_PASSWORD] },
  // replay
  { name: 'replay: success, InfluxDB 1.x', script: 'replay', prepare: spooled, env: v1, code: 0, expect: /2 spooled line\(s\) written/ },
  { name: 'replay: database down', script: 'replay', prepare: spooled, env: v1Down, code: 1, expect: /is unavailable/ },
  { name: 'replay: database 401', script: 'replay', prepare: spooled, env: v1Unauthorized, code: 1, expect: /HTTP 401/ },
  { name: 'replay: database 500 echoing the request', script: 'replay', prepare: spooled, env: v2Echo, code: 1, expect: /HTTP 500/ },
  { name: 'replay: database 400 echoing the request (lines go to rejected/)', script: 'replay', prepare: spooled, env: () => ({ INFLUX_URL: echo400.url, INFLUX_API: 'v1' }), code: 1, expect: /refused 2 line/, check: (run) => expect(filesUnder(run, 'spool/rejected/').join('')).toMatch(/^# HTTP 400: .*"authorization":"Basic \*\*\*".*\nsecrets_test,source=spool value=1 /m) },
  { name: 'replay: bad configuration', script: 'replay', prepare: spooled, env: () => ({ INFLUX_URL: influx.url, INFLUX_API: 'v3' }), code: 2, expect: /INFLUX_API is invalid/ },
  // setup
  { name: 'setup: success, v2 API', script: 'setup', env: () => ({ INFLUX_URL: influx2.url, INFLUX_ORG: 'home' }), code: 0, expect: /created/ },
  { name: 'setup: success, InfluxDB 1.x', script: 'setup', env: () => ({ ...v1(), INFLUX_BUCKET_PREFIX: 'setup' }), code: 0, expect: /setup-minute/ },
  { name: 'setup: credentials in INFLUX_URL', script: 'setup', env: () => ({ INFLUX_URL: withCredentials(influx2.url, S.urlUsername, S.urlPassword), INFLUX_ORG: 'home' }), code: 1, expect: /./, redactedUrl: true },
  { name: 'setup: database down', script: 'setup', env: () => ({ INFLUX_URL: closedUrl, INFLUX_ORG: 'home' }), code: 1, expect: /fetch failed|ECONNREFUSED/ },
  { name: 'setup: database 401 (v2 token)', script: 'setup', env: () => ({ INFLUX_URL: influx2.url, INFLUX_ORG: 'home', INFLUX_TOKEN: S.influxWrongPassword }), code: 1, expect: /refused the token/ },
  { name: 'setup: database 401 (v1)', script: 'setup', env: v1Unauthorized, code: 1, expect: /refused the credentials/ },
  { name: 'setup: database 500 echoing the request (v2)', script: 'setup', env: v2Echo, code: 2, expect: /answered 500/ },
  { name: 'setup: database 500 echoing the request (v1)', script: 'setup', env: () => ({ INFLUX_URL: echo500.url, INFLUX_API: 'v1' }), code: 1, expect: /HTTP 500/ },
  { name: 'setup: bad configuration', script: 'setup', env: () => ({ ...v1(), HOMEFLUX_RETENTION_MINUTE: 'soon' }), code: 2, expect: /HOMEFLUX_RETENTION_MINUTE/ },
  // hourly: every configured agent in one process
  { name: 'hourly: success (opower, weather), InfluxDB 1.x', script: 'hourly', env: () => ({ ...opowerEnv(portal.url), ...weatherEnv(meteo.url), ...v1(), INSIGHT_METER: 'gwp_meter' }), code: 0, expect: /scrape: skipped/, secrets: () => portal.sessionCookies },
  { name: 'hourly: database down', script: 'hourly', env: () => ({ ...opowerEnv(portal.url), ...weatherEnv(meteo.url), ...v1Down() }), code: 1, expect: /is unavailable/, secrets: () => portal.sessionCookies },
  { name: 'hourly: wrong opower password, weather still written', script: 'hourly', env: () => ({ ...opowerEnv(portal.url), ...weatherEnv(meteo.url), ...v1(), OPOWER_PASSWORD: S.opowerWrongPassword, INSIGHT_METER: 'gwp_meter' }), code: 1, expect: /401/ },
  // cost (a derived agent) and the workflow helpers
  { name: 'cost: a tariff file that does not exist', script: 'cost', env: () => ({ ...v1(), COST_TARIFF: '/nonexistent/plan.json' }), code: 2, expect: /tariff \/nonexistent\/plan\.json: cannot read it: ENOENT/ },
  { name: 'spool-cache: the GitHub API unreachable (token never printed)', script: 'spool-cache', args: () => ['plan'], env: () => ({ GH_TOKEN: S.influxToken, GITHUB_REPOSITORY: 'me/homeflux', GITHUB_API_URL: closedUrl, GITHUB_REF: 'refs/heads/main' }), code: 0, expect: /could not ask the GitHub API which spool entries exist/ },
  // migrate-original
  { name: 'migrate-original: success (nothing to move), InfluxDB 1.x', script: 'migrate-original', env: v1, code: 0, expect: /nothing to do/ },
  { name: 'migrate-original: success (nothing to move), v2 API', script: 'migrate-original', env: () => ({ INFLUX_URL: influx2.url, INFLUX_ORG: 'home' }), code: 0, expect: /nothing to do/ },
  { name: 'migrate-original: credentials in INFLUX_URL (moved into a header, never printed)', script: 'migrate-original', env: () => ({ ...v1(), INFLUX_URL: withCredentials(influx.url, S.urlUsername, S.urlPassword) }), code: 0, expect: /nothing to do/ },
  { name: 'migrate-original: database down', script: 'migrate-original', env: v1Down, code: 1, expect: /fetch failed|ECONNREFUSED/ },
  { name: 'migrate-original: database 401', script: 'migrate-original', env: v1Unauthorized, code: 1, expect: /refused the credentials \(HTTP 401/ },
  { name: 'migrate-original: database 500 echoing the request', script: 'migrate-original', env: () => ({ INFLUX_URL: echo500.url, INFLUX_API: 'v1' }), code: 1, expect: /HTTP 500/ },
  { name: 'migrate-original: bad configuration', script: 'migrate-original', env: () => ({ INFLUX_URL: '', HOMEFLUX_TIMEZONE: 'America/Los_Angeles' }), code: 2, expect: /INFLUX_URL is not set/ },
  // backfill
  { name: 'backfill: success (demo), InfluxDB 1.x', script: 'backfill', args: () => ['demo', ...DEMO], env: v1, code: 0, expect: /chunk\(s\) written/ },
  { name: 'backfill: interrupted after a chunk, checkpoint kept, credentials in INFLUX_URL', script: 'backfill', args: () => ['demo', '--since', '2026-08-03', '--until', '2026-10-26', '--concurrency', '1'], env: () => ({ ...v1(), INFLUX_URL: withCredentials(influx.url, S.urlUsername, S.urlPassword) }), interruptWhen: /chunks 1\/3/, code: 130, expect: /interrupted/, check: (run) => expect(filesUnder(run, 'spool/.backfill/').join('')).toMatch(/"destination": "v1:http:\/\/127\.0\.0\.1:\d+ prefix=home"/) },
  { name: 'backfill: source 500 echoing the request (weather)', script: 'backfill', args: () => ['weather', ...WEATHER], env: () => weatherEnv(echo500.url), code: 1, expect: /500/ },
  { name: 'backfill: database down', script: 'backfill', args: () => ['demo', ...DEMO], env: v1Down, code: 1, expect: /is unavailable/ },
  { name: 'backfill: database 401', script: 'backfill', args: () => ['demo', ...DEMO], env: v1Unauthorized, code: 1, expect: /HTTP 401/ },
  { name: 'backfill: bad configuration', script: 'backfill', args: () => ['demo', ...DEMO, '--concurrency', '99'], env: v1, code: 2, expect: /--concurrency/ },
  // report
  { name: 'report: success, InfluxDB 1.x', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', '2'], env: v1, code: 0, expect: /report: wrote/ },
  { name: 'report: credentials in INFLUX_URL (moved into a header by the reader, never printed)', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', '2'], env: () => ({ ...v1(), INFLUX_URL: withCredentials(influx.url, S.urlUsername, S.urlPassword) }), code: 0, expect: /report: wrote .* from InfluxQL \/query at \*\*\*/ },
  { name: 'report: database down', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', '2'], env: () => ({ INFLUX_URL: closedUrl, INFLUX_API: 'v1' }), code: 1, expect: /could not read/ },
  { name: 'report: database 401', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', '2'], env: v1Unauthorized, code: 1, expect: /401/ },
  { name: 'report: database 500 echoing the request', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', '2'], env: () => ({ INFLUX_URL: echo500.url, INFLUX_API: 'v1' }), code: 1, expect: /500/ },
  { name: 'report: bad configuration', script: 'report', args: (dir) => ['--out', path.join(dir, 'report.html'), '--days', 'zero'], env: v1, code: 2, expect: /--days/ },
];

describe.concurrent('secrets never leave a script', () => {
  it.each(cases)('$name', async (c) => {
    const run: ScriptRun = await spawnScript(c);
    const output = `${run.stdout}\n${run.stderr}`;
    expect({ code: run.code, signal: run.signal }, output).toEqual({ code: c.code, signal: null });
    expect(output).toMatch(c.expect);
    expect(findLeaks(run, sentinels(c.secrets?.() ?? []))).toEqual([]);
    // On Actions (as here) the host is masked too: the credentials and the host are both ***.
    if (c.redactedUrl) expect(output).toMatch(/:\/\/\*\*\*@\*\*\*/);
    // The database host appears only in ::add-mask:: lines.
    const host = /^https?:\/\/(?:[^@/]*@)?([^/]+)/.exec(c.env?.(run.dir).INFLUX_URL ?? '')?.[1];
    if (host) expect(output.split('\n').filter((l) => l.includes(host) && !l.startsWith('::add-mask::'))).toEqual([]);
    c.check?.(run);
  });
});

// The harness must be able to fail: a planted sentinel, URL credentials and a mask line.
describe('the leak check', () => {
  it('finds a sentinel anywhere but in ::add-mask:: lines, and unredacted URL credentials', () => {
    const run: ScriptRun = { code: 0, signal: null, stdout: `::add-mask::${S.influxToken}\nok`, stderr: '', summary: '', files: new Map(), dir: '' };
    expect(findLeaks(run, sentinels())).toEqual([]);
    expect(findLeaks({ ...run, stdout: `x ::add-mask::${S.influxToken}` }, sentinels())).toHaveLength(1);
    expect(findLeaks({ ...run, summary: `| ${S.nutPassword} |` }, sentinels())).toEqual([expect.stringContaining('step summary')]);
    expect(findLeaks({ ...run, files: new Map([['spool/rejected/home-hour/x.lp', `# Basic ${Buffer.from(`${S.influxUsername}:${S.influxPassword}`).toString('base64')}`]]) }, sentinels())).toHaveLength(1);
    expect(findLeaks({ ...run, stderr: 'GET http://bob:hunter2@db:8086/ping' }, [])).toHaveLength(1);
    expect(findLeaks({ ...run, stderr: 'GET http://***@db:8086/ping' }, [])).toEqual([]);
  });
});
