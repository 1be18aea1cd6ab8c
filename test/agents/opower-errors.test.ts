/**
 * The opower agent when the portal misbehaves: refused credentials, maintenance pages (503 and
 * 200), expiring sessions, rate limits; configuration errors; the other utility codes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { PASSWORD, points, runOpower, USER } from './opower-helpers.ts';

let dataDir: string;
let env: Record<string, string>;
let portal: OpowerPortal | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'homeflux-opower-err-'));
  env = { HOMEFLUX_DATA_DIR: join(dataDir, 'data'), HOMEFLUX_SPOOL_DIR: join(dataDir, 'spool') };
});
afterEach(async () => {
  await portal?.stop();
  portal = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

const WEEK = ['--since', '2025-11-03', '--until', '2025-11-10'];
const NO_STACK = /SyntaxError|Unexpected token|JSON\.parse|\n\s+at /;

describe('opower failure modes', () => {
  it('bad password: exit 1 naming the utility and the HTTP status, no secret printed, no retry', async () => {
    portal = await startOpowerPortal();
    const wrong = 'wrong-Password-4711';
    const run = await runOpower(portal, WEEK, { ...env, GWP_USER: undefined, GWP_PASSWORD: undefined, OPOWER_UTILITY: 'gwp', OPOWER_USERNAME: USER, OPOWER_PASSWORD: wrong });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/Glendale Water and Power.*HTTP 401/);
    expect(run.all).not.toContain(wrong);
    expect(run.all).not.toContain(PASSWORD);
    expect(run.all).not.toMatch(NO_STACK);
    expect(portal.count('/signin')).toBe(1);
    expect(portal.count('/DataBrowser')).toBe(0);
  });

  it('never prints the session cookie, even with --verbose', async () => {
    portal = await startOpowerPortal({ sessionMaxRequests: 6 });
    const run = await runOpower(portal, [...WEEK, '--verbose'], env);
    expect(run.code).toBe(0);
    expect(run.all).toContain('signing in');
    expect(portal.sessionCookies.length).toBeGreaterThan(1);
    for (const cookie of portal.sessionCookies) expect(run.all).not.toContain(cookie);
    expect(run.all).not.toContain(PASSWORD);
  });

  it('maintenance HTML with 503 everywhere: exit 1 with the path and status, not a JSON stack trace', async () => {
    portal = await startOpowerPortal();
    portal.setMaintenance({ status: 503, retryAfter: 0 });
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(1);
    expect(run.all).toContain('POST /ei/edge/apis/user-account-control-v1/cws/v1/gwp/account/signin');
    expect(run.all).toMatch(/HTTP 503 with an HTML page \("Scheduled Maintenance"\)/);
    expect(run.all).not.toMatch(NO_STACK);
    expect(portal.count('/signin')).toBe(4); // the pipeline's retries, each honouring Retry-After: 0
  });

  it('maintenance HTML with 503 that passes: the chunk is retried and every hour arrives', async () => {
    portal = await startOpowerPortal();
    portal.setMaintenance({ status: 503, retryAfter: 0, count: 2, match: '/reads' });
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(0);
    expect(run.err.join('\n')).toMatch(/GET \/ei\/edge\/apis\/DataBrowser-v1\/cws\/utilities\/gwp\/utilityAccounts\/[^/]+\/reads answered HTTP 503 with an HTML page.*retrying/);
    expect(portal.requests.filter((r) => r.status === 503)).toHaveLength(2);
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).toHaveLength(7 * 24 - 1); // the fake never delivers 2025-11-06 03:00
  });

  it('maintenance HTML with 200 on one endpoint: that request is reported by path, the rest is kept', async () => {
    portal = await startOpowerPortal();
    portal.setMaintenance({ status: 200, match: '/weather/daily' });
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/Glendale Water and Power \(gwp\): GET \/ei\/edge\/apis\/DataBrowser-v1\/cws\/weather\/daily answered HTTP 200 with an HTML page \("Scheduled Maintenance"\) where JSON was expected.*even after signing in again/);
    // An HTML page after sign-in may be a lost session: one new sign-in, shared, then the error.
    expect(portal.count('/signin')).toBe(2);
    expect(run.all).not.toMatch(NO_STACK);
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).toHaveLength(7 * 24 - 1); // the fake never delivers 2025-11-06 03:00
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'temperature')).toHaveLength(7 * 24); // weather has no gaps
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'day', 'temperature')).toEqual([]);
  });

  it('session expiry: a 401 mid-run signs in again and the run completes', async () => {
    // 6 requests per session: with 4 in flight, every retry after a shared re-sign-in still fits.
    portal = await startOpowerPortal({ sessionMaxRequests: 6 });
    const run = await runOpower(portal, ['--since', '2025-09-01', '--until', '2025-11-10'], env);
    expect(run.code).toBe(0);
    const expired = portal.requests.filter((r) => r.status === 401).length;
    expect(expired).toBeGreaterThan(0);
    expect(portal.count('/signin')).toBeGreaterThan(1);
    // At most one new sign-in per expired session: concurrent 401s share it.
    expect(portal.count('/signin')).toBeLessThanOrEqual(expired + 1);
    const hours = await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power');
    expect(new Set(hours.map((h) => h.time)).size).toBe(hours.length);
    expect(hours.length).toBeGreaterThan(60 * 24);
  });

  it('a refused re-sign-in after expiry stops the agent with exit 1', async () => {
    portal = await startOpowerPortal({ sessionMaxRequests: 3, maxSignins: 1 });
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/Glendale Water and Power.*HTTP 401/);
    expect(portal.count('/signin')).toBe(2);
  });

  it('429 with Retry-After: waits and retries inside the client', async () => {
    portal = await startOpowerPortal();
    portal.rateLimit(3, 1);
    const started = Date.now();
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(portal.requests.filter((r) => r.status === 429)).toHaveLength(3);
    expect(await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power')).toHaveLength(7 * 24 - 1); // the fake never delivers 2025-11-06 03:00
  });

  it('429 that does not pass: a TransientError the pipeline retries, then exit 1 naming the status', async () => {
    portal = await startOpowerPortal();
    portal.rateLimit(1000, 0);
    const run = await runOpower(portal, WEEK, env);
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/rate limited \(HTTP 429\)/);
    expect(run.all).toMatch(/attempt 4 of 4/);
  });

  it('configuration errors exit 2 naming the variable', async () => {
    portal = await startOpowerPortal();
    const missing = await runOpower(portal, WEEK, { ...env, GWP_USER: undefined, GWP_PASSWORD: undefined, OPOWER_USERNAME: USER, OPOWER_PASSWORD: PASSWORD });
    expect(missing.code).toBe(2);
    expect(missing.all).toMatch(/OPOWER_UTILITY is required.*gwp, bwp, clrk, nipsco, rienergy/);
    const unknown = await runOpower(portal, WEEK, { ...env, OPOWER_UTILITY: 'pge' });
    expect(unknown.code).toBe(2);
    expect(unknown.all).toMatch(/OPOWER_UTILITY is invalid: expected one of gwp/);
    const noPassword = await runOpower(portal, WEEK, { ...env, GWP_PASSWORD: undefined });
    expect(noPassword.code).toBe(2);
    expect(noPassword.all).toContain('OPOWER_PASSWORD is required');
    const badUuid = await runOpower(portal, WEEK, { ...env, OPOWER_ACCOUNT_UUID: 'no-such-account' });
    expect(badUuid.code).toBe(2);
    expect(badUuid.all).toContain('OPOWER_ACCOUNT_UUID names none of the 1 account(s)');
    expect(portal.count('/DataBrowser')).toBe(0);
  });

  it.each([
    ['nipsco', 'nie', 'America/Indiana/Indianapolis'],
    ['rienergy', 'ngri', 'America/New_York'],
    ['bwp', 'bwp', 'America/Los_Angeles'],
  ])('%s uses utility code %s and reads in %s', async (id, code, zone) => {
    portal = await startOpowerPortal({ code, timezone: zone });
    const run = await runOpower(portal, ['--since', '2025-11-02', '--until', '2025-11-03'], { ...env, OPOWER_UTILITY: id, HOMEFLUX_TIMEZONE: zone });
    expect(run.code).toBe(0);
    expect(portal.requests.every((r) => r.path.includes(`/${code}/`) || !r.path.includes('/utilities/'))).toBe(true);
    const hours = await points(env.HOMEFLUX_DATA_DIR!, 'hour', 'power');
    expect(hours).toHaveLength(7 * 24 + 1); // the week of the fall-back Sunday
    expect(hours.every((h) => h.tags.source === `homeflux.opower.${id}` && h.tags.location === `${id}_meter`)).toBe(true);
  });

  it('warns when HOMEFLUX_TIMEZONE differs from the utility zone', async () => {
    portal = await startOpowerPortal();
    const run = await runOpower(portal, WEEK, { ...env, HOMEFLUX_TIMEZONE: 'UTC' });
    expect(run.all).toContain('set HOMEFLUX_TIMEZONE=America/Los_Angeles');
  });
});
