/**
 * Puget Sound Energy and Duquesne Light: the site's own sign-in, then the Opower token its usage
 * page carries in an inline script (testing/fakes/page-token-site.ts). Refusals: one line each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { startPageTokenSite, type PageTokenSite } from '../../testing/fakes/page-token-site.ts';
import { type HomeRun, runInHome } from './opower-helpers.ts';
import { inlineScriptToken } from '../../src/agents/opower/signin/page-token.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'ratepayer';
const PASSWORD = 'sntl-page-token-pw-2Zx';

let psePortal: OpowerPortal;
let dqePortal: OpowerPortal;
const sites: Record<string, PageTokenSite> = {};
beforeAll(async () => {
  psePortal = await startOpowerPortal({ code: 'pse', timezone: 'America/Los_Angeles', now: NOW, meteredUntil: NOW });
  dqePortal = await startOpowerPortal({ code: 'duq', timezone: 'America/New_York', now: NOW, meteredUntil: NOW });
  for (const variant of ['pse', 'duquesne'] as const) {
    const portal = variant === 'pse' ? psePortal : dqePortal;
    sites[variant] = await startPageTokenSite({ variant, portal, username: USER, password: PASSWORD });
    sites[`${variant}-locked`] = await startPageTokenSite({ variant, portal, username: USER, password: PASSWORD, locked: true });
  }
});
afterAll(async () => {
  await Promise.all([psePortal?.stop(), dqePortal?.stop(), ...Object.values(sites).map((s) => s.stop())]);
});

async function run(utility: 'pse' | 'duquesne', site: PageTokenSite, password = PASSWORD): Promise<HomeRun> {
  const env = { HOMEFLUX_TIMEZONE: utility === 'pse' ? 'America/Los_Angeles' : 'America/New_York', OPOWER_UTILITY: utility, OPOWER_USERNAME: USER, OPOWER_PASSWORD: password, OPOWER_BASE_URL: (utility === 'pse' ? psePortal : dqePortal).url, OPOWER_LOGIN_BASE_URL: site.url };
  return runInHome(utility, ['--since', '2026-03-28', '--until', '2026-03-29'], env, NOW);
}

describe('sites that hand the Opower token to their usage page', () => {
  it('PSE: login page token, AsyncSignIn, the account list, the usage page token', async () => {
    const site = sites.pse!;
    site.steps.length = 0;
    const result = await run('pse', site);
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['login page', 'password', 'account list', 'usage page']);
    for (const secret of [PASSWORD, ...psePortal.sessionCookies]) expect(result.all + result.files).not.toContain(secret);
  });

  it('Duquesne Light: the password grant, then the usage page token', async () => {
    const site = sites.duquesne!;
    site.steps.length = 0;
    const result = await run('duquesne', site);
    expect(result.code, result.all).toBe(0);
    expect(site.steps).toEqual(['password', 'usage page']);
    for (const secret of [PASSWORD, ...dqePortal.sessionCookies]) expect(result.all + result.files).not.toContain(secret);
  });

  it('wrong passwords and locked accounts: one line naming the utility and the password step', async () => {
    const cases: [HomeRun, RegExp][] = [
      [await run('pse', sites.pse!, 'sntl-wrong-pse'), /sign-in to Puget Sound Energy \(PSE\) \(pse\) was refused at the password step: "Incorrect username or password"/],
      [await run('pse', sites['pse-locked']!), /sign-in to Puget Sound Energy \(PSE\) \(pse\) was refused at the password step: "Account is locked"/],
      [await run('duquesne', sites.duquesne!, 'sntl-wrong-dqe'), /sign-in to Duquesne Light Company \(DQE\) \(duquesne\) was refused at the password step: ".*The user name or password is incorrect\./],
      [await run('duquesne', sites['duquesne-locked']!), /sign-in to Duquesne Light Company \(DQE\) \(duquesne\) was refused at the password step: ".*Your account is locked\./],
    ];
    for (const [result, line] of cases) {
      expect(result.code).toBe(1);
      expect(result.all).toMatch(line);
      expect(result.all.split('\n').filter((l) => l.includes('sign-in to '))).toHaveLength(1);
      for (const secret of [PASSWORD, 'sntl-wrong-pse', 'sntl-wrong-dqe']) expect(result.all + result.files).not.toContain(secret);
    }
  });

  it('finds the token only in inline scripts', async () => {
    const pattern = /var accessToken\s*=\s*["'](?<token>[^"']+)["']/;
    expect(await inlineScriptToken('<script src="x.js">var accessToken = "no"</script><script>var accessToken = \'yes-1\';</script>', pattern)).toBe('yes-1');
    expect(await inlineScriptToken('<p>var accessToken = "no"</p>', pattern)).toBeUndefined();
  });
});
