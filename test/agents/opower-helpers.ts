/**
 * Helpers shared by the opower tests: run the agent in-process against the fake portal with a
 * file store in a temp dir, and read back what it wrote.
 */
import { opower } from '../../src/agents/opower/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import type { OpowerPortal } from '../../testing/fakes/opower-portal.ts';

/** A pinned "now" well after the test windows, so no period counts as still filling. */
export const NOW = Math.floor(Date.parse('2026-04-01T12:00:00Z') / 1000);
export const ZONE = 'America/Los_Angeles';
export const USER = 'homeowner@example.com';
export const PASSWORD = 'correct-horse-battery';

/** What one run printed and returned. */
export interface RunResult {
  code: number;
  out: string[];
  err: string[];
  /** Everything printed, one string. */
  all: string;
}

/** Run the opower agent with the original daemon's GWP_* names against `portal`. */
export async function runOpower(portal: OpowerPortal, argv: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(opower, {
    argv,
    env: { GWP_USER: USER, GWP_PASSWORD: PASSWORD, OPOWER_BASE_URL: portal.url, HOMEFLUX_TIMEZONE: ZONE, ...env },
    now: NOW,
    streams: { out: (l) => out.push(l), err: (l) => err.push(l) },
  });
  return { code, out, err, all: [...out, ...err].join('\n') };
}

/** One parsed line of line protocol (our own output: no spaces or commas inside values). */
export interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
  time: number;
}

/** Parse line-protocol lines written by homeflux. */
export function parseLines(lines: readonly string[]): Point[] {
  return lines.map((line) => {
    const [series, fieldText, time] = line.split(' ');
    const [measurement, ...tagPairs] = series!.split(',');
    const pairs = (list: string[]): Record<string, string> => Object.fromEntries(list.map((p) => p.split('=') as [string, string]));
    return { measurement: measurement!, tags: pairs(tagPairs), fields: pairs(fieldText!.split(',')), time: Number(time) };
  });
}

/** Points of `measurement` in bucket `home-<timescale>` of the file store. */
export async function points(dataDir: string, timescale: string, measurement: string): Promise<Point[]> {
  return parseLines(await readBucketFile(dataDir, `home-${timescale}`)).filter((p) => p.measurement === measurement);
}

/** Every file of the data dir with its content, to compare runs byte for byte. */
export async function snapshot(dataDir: string): Promise<Record<string, string>> {
  return Object.fromEntries(await readTree(dataDir));
}

/** Sign in to the fake portal as the agent would and GET one path: the raw payload, for expectations. */
export async function portalGet(portal: OpowerPortal, path: string, code = 'gwp'): Promise<unknown> {
  const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) homeflux-test', 'content-type': 'application/json' };
  const signin = await fetch(`${portal.url}/ei/edge/apis/user-account-control-v1/cws/v1/${code}/account/signin`, { method: 'POST', headers, body: JSON.stringify({ username: USER, password: PASSWORD }) });
  if (signin.status !== 204) throw new Error(`fake sign-in answered ${signin.status}`);
  const cookie = signin.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  const res = await fetch(`${portal.url}${path}`, { headers: { ...headers, cookie } });
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}

/** What {@link runInHome} returns: the run, its data dir and every file it left (for secret checks). */
export type HomeRun = Awaited<ReturnType<typeof runCaptured>> & { dir: string; files: string };

/**
 * Run the opower agent in a fresh temp home with `env` (the sign-in tests' utilities, fakes and
 * credentials) over `argv`, at `now`; returns the run, its data dir and the text of every file.
 */
export async function runInHome(label: string, argv: string[], env: Record<string, string>, now: number): Promise<HomeRun> {
  const home = await tempHome(label);
  const result = await runCaptured(opower, argv, { ...home.env, ...env }, { now });
  const files = [...(await readTree(home.dir)).values()].join('\n');
  return { ...result, dir: home.env.HOMEFLUX_DATA_DIR, files };
}
