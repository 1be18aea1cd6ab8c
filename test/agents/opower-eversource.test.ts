/**
 * Eversource: its login, Okta authn, the PKCE authorization code from Okta's post-message page,
 * the account API and the widget data's Opower token (testing/fakes/eversource-site.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unescapeJs } from '../../src/agents/opower/signin/eversource.ts';
import { startEversourceSite, type EversourceSite } from '../../testing/fakes/eversource-site.ts';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { type HomeRun, runInHome } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-eversource-pw-Jk5';

let portal: OpowerPortal;
let site: EversourceSite;
let mfa: EversourceSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: 'ever', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  site = await startEversourceSite({ portal, username: USER, password: PASSWORD });
  mfa = await startEversourceSite({ portal, username: USER, password: PASSWORD, status: 'MFA_REQUIRED' });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), mfa?.stop()]);
});

const run = (siteUrl: string, password = PASSWORD): Promise<HomeRun> =>
  runInHome('eversource', ['--since', '2026-03-28', '--until', '2026-03-29'], { HOMEFLUX_TIMEZONE: 'America/New_York', OPOWER_UTILITY: 'eversource', OPOWER_USERNAME: USER, OPOWER_PASSWORD: password, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: siteUrl }, NOW);

describe('Eversource: own login, Okta with PKCE, the widget token', () => {
  it('walks the seven steps and reads the portal', async () => {
    site.steps.length = 0;
    const result = await run(site.url);
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['login page', 'MSLogin', 'authn', 'authorize', 'token', 'accounts', 'widget']);
    for (const secret of [PASSWORD, ...site.issued, ...portal.sessionCookies]) expect(result.all + result.files).not.toContain(secret);
  });

  it('a wrong password and an account asking a code: one line each', async () => {
    const wrong = await run(site.url, 'sntl-wrong-ever');
    expect(wrong.code).toBe(1);
    expect(wrong.all).toMatch(/sign-in to Eversource \(eversource\) was refused at the password step: "The username or password you entered is incorrect\."/);
    const code = await run(mfa.url);
    expect(code.code).toBe(1);
    expect(code.all).toMatch(/sign-in to Eversource \(eversource\): the account asks for a one-time code \(MFA_REQUIRED\)/);
    for (const r of [wrong, code]) {
      expect(r.all.split('\n').filter((l) => l.includes('sign-in to Eversource'))).toHaveLength(1);
      expect(r.all + r.files).not.toContain('sntl-wrong-ever');
    }
  });

  it('undoes a JavaScript string literal\'s \\xHH escapes', () => {
    expect(unescapeJs('\\x2Dab\\x5fc')).toBe('-ab_c');
    expect(unescapeJs('plain')).toBe('plain');
  });
});
