/**
 * Portland General Electric: AWS Cognito's InitiateAuth, then PGE's token exchange
 * (testing/fakes/portlandgeneral-site.ts). Refusals and a challenge: one line each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { startPortlandGeneralSite, type PortlandGeneralSite } from '../../testing/fakes/portlandgeneral-site.ts';
import { type HomeRun, runInHome } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-pge-password-Wq8';

let portal: OpowerPortal;
let site: PortlandGeneralSite;
let locked: PortlandGeneralSite;
let sms: PortlandGeneralSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: 'pgn', timezone: 'America/Los_Angeles', now: NOW, meteredUntil: NOW });
  site = await startPortlandGeneralSite({ portal, username: USER, password: PASSWORD });
  locked = await startPortlandGeneralSite({ portal, username: USER, password: PASSWORD, locked: true });
  sms = await startPortlandGeneralSite({ portal, username: USER, password: PASSWORD, smsMfa: true });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), locked?.stop(), sms?.stop()]);
});

const run = (siteUrl: string, password = PASSWORD): Promise<HomeRun> =>
  runInHome('pge', ['--since', '2026-03-28', '--until', '2026-03-29'], { HOMEFLUX_TIMEZONE: 'America/Los_Angeles', OPOWER_UTILITY: 'portlandgeneral', OPOWER_USERNAME: USER, OPOWER_PASSWORD: password, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: siteUrl }, NOW);

describe('Portland General Electric: Cognito, then the token exchange', () => {
  it('signs in and reads the portal with the exchanged token', async () => {
    site.steps.length = 0;
    const result = await run(site.url);
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['InitiateAuth', 'token exchange']);
    for (const secret of [PASSWORD, ...site.issued, ...portal.sessionCookies]) expect(result.all + result.files).not.toContain(secret);
  });

  it('a wrong password, too many attempts, an SMS challenge: one line each', async () => {
    const cases: [HomeRun, RegExp][] = [
      [await run(site.url, 'sntl-wrong-pge'), /sign-in to Portland General Electric \(PGE\) \(portlandgeneral\) was refused at the password step: NotAuthorizedException \("Incorrect username or password\."\)/],
      [await run(locked.url), /was refused at the password step: NotAuthorizedException \("Password attempts exceeded"\)/],
      [await run(sms.url), /the password was accepted, but the identity provider asks for another step \(SMS_MFA\)/],
    ];
    for (const [result, line] of cases) {
      expect(result.code).toBe(1);
      expect(result.all).toMatch(line);
      expect(result.all.split('\n').filter((l) => l.includes('sign-in to Portland General'))).toHaveLength(1);
      for (const secret of [PASSWORD, 'sntl-wrong-pge']) expect(result.all + result.files).not.toContain(secret);
    }
  });
});
