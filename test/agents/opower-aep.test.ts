/**
 * The AEP group: the site's own ASP.NET form (testing/fakes/aep-site.ts), the Opower portal the
 * signed-in page names, then a bearer token — end to end into the file store. Expected use is
 * the portal's own data; the utility code in every data path is the one the page named.
 */
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginCommand } from '../../src/run/opower-login.ts';
import { startAepSite, type AepSite } from '../../testing/fakes/aep-site.ts';
import { FAKE_ACCOUNT, startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { type HomeRun, points, runInHome } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer-aep';
const PASSWORD = 'sntl-aep-password-K2v9';
/** What the fake's signed-in page links; the real subdomains are not in any source we have (assumed). */
const SUBDOMAIN = 'aepohio';

let portal: OpowerPortal;
let site: AepSite;
let locked: AepSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: SUBDOMAIN, timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  site = await startAepSite({ portal, username: USER, password: PASSWORD, subdomain: SUBDOMAIN });
  locked = await startAepSite({ portal, username: USER, password: PASSWORD, subdomain: SUBDOMAIN, locked: true });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), locked?.stop()]);
});

async function run(env: Record<string, string>, siteUrl = site.url): Promise<HomeRun> {
  const base = { HOMEFLUX_TIMEZONE: 'America/New_York', OPOWER_UTILITY: 'aepohio', OPOWER_USERNAME: USER, OPOWER_PASSWORD: PASSWORD, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: siteUrl };
  return runInHome('aep', ['--since', '2026-03-28', '--until', '2026-03-30'], { ...base, ...env }, NOW);
}

function expectNoSecrets(text: string): void {
  for (const secret of [PASSWORD, ...portal.sessionCookies]) expect(text).not.toContain(secret);
}

describe('AEP group: the site form, the portal it names, a bearer token', () => {
  it('signs in through the form and reads the hours under the code the page named', async () => {
    site.steps.length = 0;
    const before = portal.requests.length;
    const result = await run({});
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['form', 'post', 'ValidToken']);
    // Every data request went to the code the signed-in page named (the table has none).
    const paths = portal.requests.slice(before).map((q) => q.path).filter((p) => p.includes('/cws/utilities/') || p.includes('/multi-account-v1/'));
    expect(paths.length).toBeGreaterThan(0);
    for (const p of paths) expect(p).toMatch(new RegExp(`/cws/(utilities/)?${SUBDOMAIN}/`));
    const hours = await points(result.dir, 'hour', 'power');
    expect(hours).toHaveLength(7 * 24);
    for (const h of hours) expect(Number(h.fields.power_usage)).toBeCloseTo(portal.hourValue(FAKE_ACCOUNT.uuid, h.time) * 1000, 6);
    expect(hours.every((h) => h.tags.source === 'homeflux.opower.aepohio')).toBe(true);
    expectNoSecrets(result.all + result.files);
  });

  it('a wrong password and a locked account: one line with the site\'s reason, naming the utility and step', async () => {
    const wrong = await run({ OPOWER_PASSWORD: 'sntl-wrong-aep-3Jx' });
    expect(wrong.code).toBe(1);
    expect(wrong.all).toMatch(/sign-in to AEP Ohio \(aepohio\) was refused at the password step: "The User ID or Password you entered is incorrect\."/);
    expect(wrong.all).not.toContain('sntl-wrong-aep-3Jx');
    const lock = await run({}, locked.url);
    expect(lock.code).toBe(1);
    expect(lock.all).toMatch(/sign-in to AEP Ohio \(aepohio\) was refused at the password step: "Your account has been locked/);
    for (const r of [wrong, lock]) {
      expect(r.err.filter((l) => l.includes('sign-in to AEP Ohio'))).toHaveLength(1);
      expectNoSecrets(r.all + r.files);
    }
  });

  it('--login for a utility that keeps nothing checks the sign-in and says so', async () => {
    const login = async (password: string): Promise<{ code: number; lines: string[] }> => {
      const lines: string[] = [];
      const env = { OPOWER_UTILITY: 'aepohio', OPOWER_USERNAME: USER, OPOWER_PASSWORD: password, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: site.url };
      const code = await loginCommand({ argv: ['--login'], env, signal: new AbortController().signal, interrupt: new AbortController().signal }, { input: new PassThrough(), prompt: () => undefined, log: { out: (l) => lines.push(l), err: (l) => lines.push(l) } });
      return { code, lines };
    };
    const ok = await login(PASSWORD);
    expect(ok).toEqual({ code: 0, lines: ['opower --login: signed in to AEP Ohio (aep-form); nothing needs keeping — scheduled runs sign in by themselves'] });
    const wrong = await login('sntl-wrong-aep-login');
    expect(wrong.code).toBe(1);
    expect(wrong.lines).toEqual([expect.stringMatching(/^error: opower --login: sign-in to AEP Ohio \(aepohio\) was refused at the password step/)]);
  });
});
