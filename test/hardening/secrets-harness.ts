/**
 * Plumbing for secrets-all-scripts.test.ts: sentinel secrets, a script spawned as a real child
 * process with everything it could leak into (stdout, stderr, step summary, data and spool
 * dirs) collected, servers that echo the request back, and the leak check itself.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTree } from '../../testing/helpers/run-agent.ts';

/** The repository root: scripts are spawned from here, as a user would run them. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** Distinct, recognisable values for every secret-looking variable (and the usernames). */
export const S = {
  influxToken: 'sntl-influx-token-7Hq2',
  influxUsername: 'sntl-influx-username-7Hq2',
  influxPassword: 'sntl-influx-password-7Hq2',
  influxWrongPassword: 'sntl-influx-wrong-password-7Hq2',
  urlUsername: 'sntl-url-username-7Hq2',
  urlPassword: 'sntl-url-password-7Hq2',
  opowerUsername: 'sntl-opower-username-7Hq2',
  opowerPassword: 'sntl-opower-password-7Hq2',
  opowerWrongPassword: 'sntl-opower-wrong-password-7Hq2',
  gwpUser: 'sntl-gwp-user-7Hq2',
  gwpPassword: 'sntl-gwp-password-7Hq2',
  nutUsername: 'sntl-nut-username-7Hq2',
  nutPassword: 'sntl-nut-password-7Hq2',
  nutWrongPassword: 'sntl-nut-wrong-password-7Hq2',
  apcUsername: 'sntl-apc-username-7Hq2',
  apcPassword: 'sntl-apc-password-7Hq2',
  githubToken: 'sntl-github-token-7Hq2',
  apiKey: 'sntl-api-key-7Hq2',
  mqttUsername: 'sntl-mqtt-username-7Hq2',
  mqttPassword: 'sntl-mqtt-password-7Hq2',
  mqttWrongPassword: 'sntl-mqtt-wrong-password-7Hq2',
  // Valid base32 (dashes are ignored), so the opower agent accepts it and must still never print it.
  totpSecret: 'sntl-totp-secret-7Hq2',
  stateKey: 'sntl-state-key-7Hq2-0123456789',
  // A refresh token the identity provider no longer honours, kept in a sealed session file.
  refreshToken: 'sntl-refresh-token-7Hq2',
} as const;

/** Present in every run, whether the script reads them or not. */
export const SECRET_ENV: Record<string, string> = {
  INFLUX_TOKEN: S.influxToken,
  INFLUX_USERNAME: S.influxUsername,
  INFLUX_PASSWORD: S.influxPassword,
  OPOWER_USERNAME: S.opowerUsername,
  OPOWER_PASSWORD: S.opowerPassword,
  GWP_USER: S.gwpUser,
  GWP_PASSWORD: S.gwpPassword,
  NUT_USERNAME: S.nutUsername,
  NUT_PASSWORD: S.nutPassword,
  APC_NMC_USERNAME: S.apcUsername,
  APC_NMC_PASSWORD: S.apcPassword,
  GITHUB_TOKEN: S.githubToken,
  OPENWEATHER_API_KEY: S.apiKey,
  MQTT_USERNAME: S.mqttUsername,
  MQTT_PASSWORD: S.mqttPassword,
  OPOWER_TOTP_SECRET: S.totpSecret,
  HOMEFLUX_STATE_KEY: S.stateKey,
};

/** `Basic` credentials as sent on the wire: the password in another spelling. */
export const basic = (username: string, password: string): string => Buffer.from(`${username}:${password}`).toString('base64');

/** Every value that must never show up, plus encoded forms an echoing server could return. */
export function sentinels(extra: readonly string[] = []): string[] {
  return [...Object.values(S), basic(S.influxUsername, S.influxPassword), basic(S.influxUsername, S.influxWrongPassword), ...extra];
}

/** What one spawned script left behind. */
export interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  summary: string;
  /** Every file under the run's temp dir (data, spool incl. rejected/ and .backfill/, outputs). */
  files: Map<string, string>;
  dir: string;
}

/** How to spawn one script. */
export interface SpawnOptions {
  script: string;
  args?: (dir: string) => string[];
  env?: (dir: string) => Record<string, string | undefined>;
  /** Prepare the temp dir before the run (e.g. a spool to replay). */
  prepare?: (dir: string) => Promise<void>;
  /** Send SIGINT once stdout matches this. */
  interruptWhen?: RegExp;
  timeoutMs?: number;
}

/**
 * Spawn `scripts/<script>.ts` with the secrets, Actions mode (annotations, masks, step summary),
 * the most verbose logging, no retry budget, 2 s timeouts, and data/spool in a fresh temp dir.
 * The environment is built from scratch: nothing from the test runner's own (possibly Actions)
 * environment reaches the child except PATH and HOME.
 */
export async function spawnScript(options: SpawnOptions): Promise<ScriptRun> {
  const dir = await mkdtemp(path.join(tmpdir(), `homeflux-secrets-${options.script}-`));
  const summaryFile = path.join(dir, 'step-summary.md');
  await writeFile(summaryFile, '');
  await options.prepare?.(dir);
  const env: Record<string, string> = {};
  const all = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_STEP_SUMMARY: summaryFile,
    HOMEFLUX_DEBUG: 'true',
    HOMEFLUX_DATA_DIR: path.join(dir, 'data'),
    HOMEFLUX_SPOOL_DIR: path.join(dir, 'spool'),
    HOMEFLUX_RETRY_SECONDS: '0',
    HOMEFLUX_HTTP_TIMEOUT: '2',
    HOMEFLUX_TIMEZONE: 'UTC',
    ...SECRET_ENV,
    ...options.env?.(dir),
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) env[name] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/${options.script}.ts`, ...(options.args?.(dir) ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (options.interruptWhen && !interrupted && options.interruptWhen.test(stdout)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 40_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const files = await readTree(dir);
  return { code, signal, stdout, stderr, summary: files.get('step-summary.md') ?? '', files, dir };
}

/**
 * `::add-mask::<value>` is how a step tells GitHub to hide a value: the runner consumes the
 * command and never shows the line, so it must carry the value. Exactly these command lines
 * (whole lines of stdout or stderr starting with `::add-mask::`) are left out of the check;
 * every other line, the step summary and every file are checked in full.
 */
export function withoutMaskCommands(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n');
}

/** Where each sentinel turned up (`[]` = no leak). */
export function findLeaks(run: ScriptRun, values: readonly string[]): string[] {
  const places: Array<[string, string]> = [
    ['stdout', withoutMaskCommands(run.stdout)],
    ['stderr', withoutMaskCommands(run.stderr)],
    ['step summary', run.summary],
    ...[...run.files].map(([name, text]): [string, string] => [`file ${name}`, text]),
  ];
  const leaks: string[] = [];
  for (const [where, text] of places) {
    for (const value of values) if (text.includes(value)) leaks.push(`${value} in ${where}: …${excerptAround(text, value)}…`);
    // A URL's user:password part must always read ***@, whatever the values are.
    const url = /\b[a-z][a-z0-9+.-]*:\/\/(?!\*\*\*@)[^\s/@"'<>]+@/i.exec(text);
    if (url) leaks.push(`unredacted URL credentials in ${where}: ${excerptAround(text, url[0])}`);
  }
  return leaks;
}

function excerptAround(text: string, value: string): string {
  const at = text.indexOf(value);
  return text.slice(Math.max(0, at - 80), at + value.length + 40).replace(/\s+/g, ' ');
}

/** A running helper server. */
export interface EchoServer {
  url: string;
  stop(): Promise<void>;
}

const LOGON_PAGE = readFileSync(path.join(ROOT, 'test/fixtures/scrape/apc-nmc-logon.htm'), 'utf8');

/**
 * An HTTP server that answers every request with `status` and the request itself (method, URL,
 * headers, body) as JSON, with `Retry-After: 0` so retries don't slow the test: if a client sends
 * a secret, it comes straight back in the error text. `GET …logon.htm` serves the APC card's
 * login page, so a scrape login reaches the point of posting its password here.
 */
export async function startEchoServer(status: number): Promise<EchoServer> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'GET' && (req.url ?? '').endsWith('logon.htm')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(LOGON_PAGE);
        return;
      }
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A TCP server speaking just enough NUT to fail: every command line comes back inside an `ERR`. */
export async function startNutEcho(): Promise<EchoServer & { port: number }> {
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) socket.write(line === 'LOGOUT' ? 'OK Goodbye\n' : `ERR ACCESS-DENIED ${line}\n`);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `nut://127.0.0.1:${port}`, port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** `url` with `user:password@` inserted. */
export function withCredentials(url: string, username: string, password: string): string {
  const u = new URL(url);
  u.username = username;
  u.password = password;
  return u.toString().replace(/\/$/, '');
}
