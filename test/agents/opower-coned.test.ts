/**
 * The ConEd family (Consolidated Edison, Orange & Rockland): the utility's own sign-in with a
 * TOTP second factor (testing/fakes/coned-site.ts) handing a bearer token to the fake Opower
 * portal, end to end into the file store. Expected use comes from the portal's own data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConedSite, type ConedSite } from '../../testing/fakes/coned-site.ts';
import { FAKE_ACCOUNT, startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { type HomeRun, points, runInHome } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer@example.com';
const PASSWORD = 'sntl-coned-password-7Hq2';
/** The account's authenticator secret (base32), as the site shows it beside the QR code. */
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DP';

let portal: OpowerPortal;
let site: ConedSite;
let noMfaSite: ConedSite;
beforeAll(async () => {
  portal = await startOpowerPortal({ code: 'cned', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  site = await startConedSite({ portal, username: USER, password: PASSWORD, totpSecret: SECRET });
  noMfaSite = await startConedSite({ portal, username: USER, password: PASSWORD });
});
afterAll(async () => {
  await Promise.all([portal?.stop(), site?.stop(), noMfaSite?.stop()]);
});

async function run(env: Record<string, string>, siteUrl = site.url): Promise<HomeRun> {
  const base = { HOMEFLUX_TIMEZONE: 'America/New_York', OPOWER_UTILITY: 'coned', OPOWER_USERNAME: USER, OPOWER_PASSWORD: PASSWORD, OPOWER_TOTP_SECRET: SECRET, OPOWER_BASE_URL: portal.url, OPOWER_LOGIN_BASE_URL: siteUrl };
  return runInHome('coned', ['--since', '2026-03-28', '--until', '2026-03-30'], { ...base, ...env }, NOW);
}

/** Nothing secret in output or files: the password, the TOTP secret and codes, tokens, session cookies. */
function expectNoSecrets(text: string): void {
  for (const secret of [PASSWORD, SECRET, ...portal.sessionCookies]) expect(text).not.toContain(secret);
}

describe('ConEd family: own sign-in, TOTP, bearer token', () => {
  it('signs in with the TOTP secret and writes the hours the portal serves', async () => {
    site.steps.length = 0;
    const result = await run({});
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['Login', 'VerifyFactor', 'redirect', 'GetOPowerToken']);
    const hours = await points(result.dir, 'hour', 'power');
    // The two days asked for, widened to their local week (the weekly rollup needs it): every
    // hour of it, each the portal's own value in Wh.
    expect(hours).toHaveLength(7 * 24);
    for (const h of hours) expect(Number(h.fields.power_usage)).toBeCloseTo(portal.hourValue(FAKE_ACCOUNT.uuid, h.time) * 1000, 6);
    expect(hours.every((h) => h.tags.source === 'homeflux.opower.coned')).toBe(true);
    expectNoSecrets(result.all + result.files);
  });

  it('an account without MFA needs no secret', async () => {
    noMfaSite.steps.length = 0;
    const result = await run({ OPOWER_TOTP_SECRET: '' }, noMfaSite.url);
    expect(result.code, result.all).toBe(0);
    expect(noMfaSite.steps).toEqual(['Login', 'redirect', 'GetOPowerToken']);
  });

  it('one clear line for each refusal, naming the utility and the step, with no secret', async () => {
    const missing = await run({ OPOWER_TOTP_SECRET: '' });
    expect(missing.code).toBe(1);
    expect(missing.all).toMatch(/sign-in to Consolidated Edison \(ConEd\) \(coned\): the account asks for a one-time code \(MFA\) and OPOWER_TOTP_SECRET is not set/);
    const wrongCode = await run({ OPOWER_TOTP_SECRET: 'GEZDGNBVGY3TQOJQGEZDGNBVGY' });
    expect(wrongCode.code).toBe(1);
    expect(wrongCode.all).toMatch(/sign-in to Consolidated Edison \(ConEd\) \(coned\) refused the one-time code: is OPOWER_TOTP_SECRET the secret/);
    const wrongPassword = await run({ OPOWER_PASSWORD: 'sntl-wrong-password-7Hq2' });
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.all).toMatch(/sign-in to Consolidated Edison \(ConEd\) \(coned\) was refused at the password step: check OPOWER_USERNAME and OPOWER_PASSWORD/);
    expect(wrongPassword.all).not.toContain('sntl-wrong-password-7Hq2');
    for (const r of [missing, wrongCode, wrongPassword]) expectNoSecrets(r.all + r.files);
    const notBase32 = await run({ OPOWER_TOTP_SECRET: 'not-a-secret!' });
    expect(notBase32.code).toBe(2);
    expect(notBase32.all).toMatch(/OPOWER_TOTP_SECRET/);
    expect(notBase32.all).not.toContain('not-a-secret!');
  });
});
