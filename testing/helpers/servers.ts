/**
 * Real servers for the test suite, each on free loopback ports in its own temp dir:
 * InfluxDB 1.x (`influxd`), VictoriaMetrics and NUT (see `nut.ts`, re-exported here).
 * The database is never mocked (DESIGN.md "Tests").
 *
 * Each `start*` resolves once the server answers, and returns a handle with `url`, `dir`,
 * `stop()` and small query helpers; the same helpers are available for a bare URL (the
 * servers shared through `inject()` from `global-setup.ts`) via `influxV1Client` and
 * `vmClient`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePorts } from './ports.ts';
import {
  fetchWithTimeout,
  launch,
  makeTempDir,
  removeDir,
  requireBinary,
  waitUntilReady,
  type ManagedProcess,
} from './process.ts';

export { startNut, nutCommand, type NutServer, type NutOptions } from './nut.ts';

/** What every `start*` function returns. */
export interface ServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  /** The server's private temp dir (data, config); removed by `stop()`. */
  dir: string;
  /** Stop the server (SIGTERM, then SIGKILL) and remove its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options shared by the launchers. */
export interface StartOptions {
  /** How long to wait for readiness before failing (default 30 s). */
  timeoutMs?: number;
}

/** A port taken between `freePorts()` and the server's bind is retried with new ports. */
const START_ATTEMPTS = 3;
const PORT_RACE = /address already in use|bind: /i;

async function withPortRetry<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= START_ATTEMPTS || !PORT_RACE.test(String(error))) throw error;
    }
  }
}

/** Readiness probe: does GET `url` answer `status`? (The body is read so the socket is freed.) */
async function answers(url: string, status: number): Promise<boolean> {
  const response = await fetchWithTimeout(url, {}, 1_000);
  await response.arrayBuffer();
  return response.status === status;
}

/** Stop processes and remove the dir, once, whatever happens to the processes. */
function stopper(processes: () => ManagedProcess[], dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      await Promise.all(processes().map((proc) => proc.stop()));
      await removeDir(dir);
    })();
    return stopping;
  };
}

// ---------------------------------------------------------------------------------------
// InfluxDB 1.x

/** One statement's result from InfluxDB 1.x `/query`. */
export interface InfluxV1Result {
  statement_id: number;
  series?: Array<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }>;
  error?: string;
}

/** Basic-auth credentials for InfluxDB 1.x. */
export interface InfluxV1Auth {
  username: string;
  password: string;
}

/** Query helpers for an InfluxDB 1.x URL. */
export interface InfluxV1Client {
  url: string;
  /** `GET /query?db=&q=&epoch=s` → the parsed `results` (statement errors are left in them). */
  query(db: string, q: string): Promise<InfluxV1Result[]>;
  /** `POST /query` for statements 1.x refuses over GET (CREATE, DROP, …); throws on errors. */
  exec(q: string, db?: string): Promise<InfluxV1Result[]>;
  /** `CREATE DATABASE` (a no-op when it exists). */
  createDatabase(db: string): Promise<void>;
  /** `POST /write?db=&precision=`; throws with the server's message unless 204. */
  write(db: string, lines: string, precision?: 'ns' | 'us' | 'ms' | 's'): Promise<void>;
  /** Every row of a measurement as `{ time (epoch s), ...tags, ...fields }`. */
  rows(db: string, measurement: string): Promise<Array<Record<string, unknown>>>;
  /** Number of stored points (distinct series × time) of a measurement; 0 when none. */
  countPoints(db: string, measurement: string): Promise<number>;
  /** `SELECT count("field") FROM "measurement"` — cheap on big measurements; 0 when none. */
  countField(db: string, measurement: string, field: string): Promise<number>;
}

/** A running `influxd`. */
export type InfluxV1Server = ServerHandle & InfluxV1Client & { auth?: InfluxV1Auth };

function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Helpers for an InfluxDB 1.x server at `url` (e.g. from `inject('influxV1Url')`).
 * Pass `auth` when the server has `auth-enabled`.
 */
export function influxV1Client(url: string, auth?: InfluxV1Auth): InfluxV1Client {
  const headers: Record<string, string> = auth
    ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` }
    : {};
  const parse = async (response: Response, what: string): Promise<InfluxV1Result[]> => {
    const text = await response.text();
    if (!response.ok) throw new Error(`${what}: expected HTTP 200, got ${response.status}: ${text}`);
    return (JSON.parse(text) as { results: InfluxV1Result[] }).results;
  };
  const failed = (results: InfluxV1Result[]): string | undefined => results.find((r) => r.error)?.error;

  const client: InfluxV1Client = {
    url,
    async query(db, q) {
      const params = new URLSearchParams({ db, q, epoch: 's' });
      return parse(await fetchWithTimeout(`${url}/query?${params}`, { headers }), `GET /query ${q}`);
    },
    async exec(q, db) {
      const body = new URLSearchParams({ q, ...(db ? { db } : {}) });
      const results = await parse(
        await fetchWithTimeout(`${url}/query`, { method: 'POST', headers, body }),
        `POST /query ${q}`,
      );
      const error = failed(results);
      if (error) throw new Error(`POST /query ${q}: ${error}`);
      return results;
    },
    async createDatabase(db) {
      await client.exec(`CREATE DATABASE ${quoteIdent(db)}`);
    },
    async write(db, lines, precision = 's') {
      const params = new URLSearchParams({ db, precision });
      const response = await fetchWithTimeout(`${url}/write?${params}`, { method: 'POST', headers, body: lines });
      if (response.status !== 204) {
        throw new Error(`POST /write?db=${db}: expected 204, got ${response.status}: ${await response.text()}`);
      }
    },
    async rows(db, measurement) {
      const q = `SELECT * FROM ${quoteIdent(measurement)}`;
      const results = await client.query(db, q);
      const error = failed(results);
      if (error) throw new Error(`${q} on ${db}: ${error}`);
      // Without GROUP BY, 1.x returns all series of the measurement as one table.
      return (results[0]?.series ?? []).flatMap((series) =>
        series.values.map((row) => Object.fromEntries(series.columns.map((column, i) => [column, row[i]]))),
      );
    },
    async countPoints(db, measurement) {
      return (await client.rows(db, measurement)).length;
    },
    async countField(db, measurement, field) {
      const results = await client.query(db, `SELECT count(${quoteIdent(field)}) FROM ${quoteIdent(measurement)}`);
      return Number(results[0]?.series?.[0]?.values[0]?.[1] ?? 0);
    },
  };
  return client;
}

/** Options for {@link startInfluxV1}. */
export interface InfluxV1Options extends StartOptions {
  /** Turn on `auth-enabled` and create this admin user (for 401/403 and basic-auth tests). */
  auth?: InfluxV1Auth;
}

/** influxd config: everything under `dir`, loopback only, and as quiet as 1.6 allows. */
function influxConfig(dir: string, httpPort: number, rpcPort: number, auth: boolean): string {
  const at = (sub: string): string => JSON.stringify(path.join(dir, sub));
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = ${at('meta')}`,
    '  logging-enabled = false',
    '[data]',
    `  dir = ${at('data')}`,
    `  wal-dir = ${at('wal')}`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    `  auth-enabled = ${auth}`,
    '[logging]',
    '  level = "warn"',
    '[monitor]',
    '  store-enabled = false',
    '[continuous_queries]',
    '  log-enabled = false',
    '',
  ].join('\n');
}

/**
 * Start InfluxDB 1.x (Debian `influxdb`, 1.6.7 verified): `influxd -config FILE` with data,
 * meta and WAL in a temp dir, HTTP and RPC on free loopback ports, reporting, self-monitoring
 * and request logging off. Ready when `GET /ping` answers 204. It only speaks `/write` and
 * `/query`; `/api/v2/write` is a 404 on 1.6.
 */
export async function startInfluxV1(options: InfluxV1Options = {}): Promise<InfluxV1Server> {
  const influxd = await requireBinary('influxd', 'apt-get install -y influxdb');
  return withPortRetry(async () => {
    const dir = await makeTempDir('influxdb');
    const [httpPort = 0, rpcPort = 0] = await freePorts(2);
    const url = `http://127.0.0.1:${httpPort}`;
    const configFile = path.join(dir, 'influxdb.conf');
    let proc: ManagedProcess | undefined;
    const stop = stopper(() => (proc ? [proc] : []), dir);
    try {
      await writeFile(configFile, influxConfig(dir, httpPort, rpcPort, Boolean(options.auth)));
      proc = launch({ name: 'influxd', command: influxd, args: ['-config', configFile], cleanupDir: dir });
      await waitUntilReady({
        what: `influxd on ${url} (GET /ping → 204)`,
        processes: [proc],
        timeoutMs: options.timeoutMs,
        probe: () => answers(`${url}/ping`, 204),
      });
      if (options.auth) {
        // 1.x lets anyone create the first admin user while none exists.
        const { username, password } = options.auth;
        await influxV1Client(url).exec(
          `CREATE USER ${quoteIdent(username)} WITH PASSWORD '${password.replace(/'/g, "\\'")}' WITH ALL PRIVILEGES`,
        );
      }
    } catch (error) {
      await stop();
      throw error;
    }
    return { ...influxV1Client(url, options.auth), url, dir, stop, auth: options.auth };
  });
}

// ---------------------------------------------------------------------------------------
// VictoriaMetrics

/** One series from `/api/v1/export` (one JSON line). Timestamps are epoch milliseconds. */
export interface VmSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/**
 * Helpers for a VictoriaMetrics URL.
 *
 * How InfluxDB line protocol lands in VictoriaMetrics 1.79 (found by experiment):
 * - `m,tag=v f1=1,f2=2i T` → series `m_f1{tag="v"}` and `m_f2{tag="v"}` (field `f` of
 *   measurement `m` becomes metric `m_f`; integers and floats both become floats; a string
 *   field such as `note="text"` becomes a series `m_note` with value 0).
 * - `/write?db=B` adds the label `db="B"`; `/api/v2/write?bucket=B&org=O` adds **no** label,
 *   so tests sharing one server must keep their series apart by measurement or tag.
 * - Old timestamps are kept with `-retentionPeriod=100y` (2014 is fine), but anything
 *   before 1970 is dropped (`small_timestamp`), and anything more than 2 days in the future
 *   is dropped (`big_timestamp`) — both silently, with a 204. Timestamp `0` means "now".
 * - Writing the same series and timestamp twice keeps both samples unless `dedup` is on.
 * - After `force_flush` a write is visible to export at once (checked 200 times in a row).
 * - `/api/v1/export` defaults to `start=0` but `end=now`, which hides accepted points up to
 *   2 days ahead; `exportSeries` therefore passes `start=0&end=now+3d`.
 */
export interface VmClient {
  url: string;
  /** `GET /internal/force_flush`: make writes so far visible to export/queries now. */
  flush(): Promise<void>;
  /**
   * Flush (unless `flush: false`), then `GET /api/v1/export?match[]=MATCH&start=0&end=now+3d`,
   * parsed line by line. `match` is a series selector, e.g. `{__name__=~"ups_.*",host="a"}`.
   */
  exportSeries(match: string, options?: { flush?: boolean }): Promise<VmSeries[]>;
  /** Sum of `values.length` over `exportSeries(match)`: every stored sample, duplicates too. */
  countPoints(match: string): Promise<number>;
  /**
   * Rows VictoriaMetrics answered 204 for but dropped for their timestamp (cumulative,
   * from `/metrics`). The counters lag the write by about a second: poll them.
   */
  ignoredRows(): Promise<{ bigTimestamp: number; smallTimestamp: number }>;
}

/** A running VictoriaMetrics. */
export type VmServer = ServerHandle & VmClient;

/** Helpers for a VictoriaMetrics server at `url` (e.g. from `inject('vmUrl')`). */
export function vmClient(url: string): VmClient {
  const client: VmClient = {
    url,
    async flush() {
      const response = await fetchWithTimeout(`${url}/internal/force_flush`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`GET /internal/force_flush: expected 200, got ${response.status}`);
    },
    async exportSeries(match, options = {}) {
      if (options.flush !== false) await client.flush();
      const end = Math.floor(Date.now() / 1000) + 3 * 86_400;
      const params = new URLSearchParams({ 'match[]': match, start: '0', end: String(end) });
      const response = await fetchWithTimeout(`${url}/api/v1/export?${params}`);
      const text = await response.text();
      if (!response.ok) throw new Error(`GET /api/v1/export ${match}: expected 200, got ${response.status}: ${text}`);
      return text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as VmSeries);
    },
    async countPoints(match) {
      return (await client.exportSeries(match)).reduce((sum, series) => sum + series.values.length, 0);
    },
    async ignoredRows() {
      const text = await (await fetchWithTimeout(`${url}/metrics`)).text();
      const read = (reason: string): number =>
        Number(new RegExp(`^vm_rows_ignored_total\\{reason="${reason}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
      return { bigTimestamp: read('big_timestamp'), smallTimestamp: read('small_timestamp') };
    },
  };
  return client;
}

/** Options for {@link startVictoriaMetrics}. */
export interface VmOptions extends StartOptions {
  /**
   * Keep one sample per series and timestamp (the last one written), like InfluxDB's
   * overwrite. Off by default so `countPoints` reveals a batch that was written twice.
   */
  dedup?: boolean;
}

/**
 * Start VictoriaMetrics (Debian `victoria-metrics`, 1.79 verified) with
 * `-retentionPeriod=100y` so old timestamps are kept, the response cache off (tests read
 * right after writing) and only errors logged. Ready when `/health` answers 200.
 * It accepts line protocol on `/write` and `/api/v2/write`; see {@link VmClient} for how
 * points map to series.
 */
export async function startVictoriaMetrics(options: VmOptions = {}): Promise<VmServer> {
  const binary = await requireBinary('victoria-metrics', 'apt-get install -y victoria-metrics');
  return withPortRetry(async () => {
    const dir = await makeTempDir('victoria-metrics');
    const [port] = await freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const args = [
      `-storageDataPath=${path.join(dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      '-search.disableCache',
      '-loggerLevel=ERROR',
      ...(options.dedup ? ['-dedup.minScrapeInterval=1ms'] : []),
    ];
    const proc = launch({ name: 'victoria-metrics', command: binary, args, cleanupDir: dir });
    const stop = stopper(() => [proc], dir);
    try {
      await waitUntilReady({
        what: `victoria-metrics on ${url} (GET /health → 200)`,
        processes: [proc],
        timeoutMs: options.timeoutMs,
        probe: () => answers(`${url}/health`, 200),
      });
    } catch (error) {
      await stop();
      throw error;
    }
    return { ...vmClient(url), url, dir, stop };
  });
}
