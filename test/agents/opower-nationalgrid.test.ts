/**
 * National Grid: B2C OpenID Connect with PKCE (testing/fakes/nationalgrid-site.ts) and the access
 * token as the Opower bearer; NY Metro's portal (`ngny-gas`) uses another utility code (`ngbk`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNationalGridSite, type NationalGridSite } from '../../testing/fakes/nationalgrid-site.ts';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { type HomeRun, runInHome } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-ng-password-Lm3';

let portal: OpowerPortal;
let site: NationalGridSite;
let locked: NationalGridSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: 'ngbk', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  site = await startNationalGridSite({ portal, username: USER, password: PASSWORD });
  locked = await startNationalGridSite({ portal, username: USER, password: PASSWORD, locked: true });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), locked?.stop()]);
});

async function run(siteUrl: string, extra: Record<string, string> = {}): Promise<HomeRun> {
  const env = { HOMEFLUX_TIMEZONE: 'America/New_York', OPOWER_UTILITY: 'nationalgridnymetro', OPOWER_USERNAME: USER, OPOWER_PASSWORD: PASSWORD, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: siteUrl };
  return runInHome('ng', ['--since', '2026-03-28', '--until', '2026-03-29'], { ...env, ...extra }, NOW);
}

describe('National Grid: B2C OpenID Connect', () => {
  it('discovery, the sign-in page, the password, the code, the token — then the NY Metro portal under code ngbk', async () => {
    site.steps.length = 0;
    const before = portal.requests.length;
    const result = await run(site.url);
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['configuration', 'sign-in page', 'password', 'confirm', 'token']);
    const paths = portal.requests.slice(before).map((q) => q.path).filter((p) => p.includes('/multi-account-v1/') || p.includes('/utilities/'));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toMatch(/\/cws\/(utilities\/)?ngbk\//);
    for (const secret of [PASSWORD, ...site.issued, ...portal.sessionCookies]) expect(result.all + result.files).not.toContain(secret);
  });

  it('a wrong password and a locked account: one line each, B2C\'s words, the step named', async () => {
    const line = /sign-in to National Grid \(NY Metro\) \(nationalgridnymetro\) was refused at the password step: "(.*)"; check OPOWER_USERNAME and OPOWER_PASSWORD/;
    const wrong = await run(site.url, { OPOWER_PASSWORD: 'sntl-wrong-ng-8Vv' });
    expect(wrong.code).toBe(1);
    expect(line.exec(wrong.all)?.[1]).toBe('Invalid username or password.');
    expect(wrong.all).not.toContain('sntl-wrong-ng-8Vv');
    const lock = await run(locked.url);
    expect(lock.code).toBe(1);
    expect(line.exec(lock.all)?.[1]).toMatch(/^Your account is temporarily locked/);
    for (const r of [wrong, lock]) expect(r.all.split('\n').filter((l) => l.includes('sign-in to National Grid'))).toHaveLength(1);
  });
});
