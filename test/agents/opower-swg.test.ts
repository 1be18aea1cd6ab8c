/**
 * Southwest Gas: the sign-in wall first, then the JSON sign-in with its extra headers; the
 * portal answers 204 (a cookie session) or 200 with a token (a bearer session). Both collect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opower } from '../../src/agents/opower/index.ts';
import { FAKE_ACCOUNT, startOpowerPortal, type OpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import { points } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const USER = 'homeowner@example.com';
const PASSWORD = 'correct-horse-battery';
let cookiePortal: OpowerPortal;
let tokenPortal: OpowerPortal;
beforeAll(async () => {
  const start = (signinWall: '204' | 'token'): Promise<OpowerPortal> => startOpowerPortal({ code: 'swg', timezone: 'America/Phoenix', now: NOW, meteredUntil: NOW, signinWall, username: USER, password: PASSWORD });
  cookiePortal = await start('204');
  tokenPortal = await start('token');
});
afterAll(async () => {
  await Promise.all([cookiePortal?.stop(), tokenPortal?.stop()]);
});

async function run(portal: OpowerPortal, password = PASSWORD): Promise<Awaited<ReturnType<typeof runCaptured>> & { dir: string }> {
  const home = await tempHome('swg');
  const env = { ...home.env, HOMEFLUX_TIMEZONE: 'America/Phoenix', OPOWER_UTILITY: 'swg', OPOWER_USERNAME: USER, OPOWER_PASSWORD: password, OPOWER_BASE_URL: portal.url };
  return { ...(await runCaptured(opower, ['--since', '2026-03-28', '--until', '2026-03-30'], env, { now: NOW })), dir: home.env.HOMEFLUX_DATA_DIR };
}

describe('Southwest Gas: the sign-in wall', () => {
  it.each([
    ['204, a cookie session', () => cookiePortal],
    ['200 with a sessionToken, a bearer session', () => tokenPortal],
  ])('%s: signs in and writes the hours the portal serves', async (_name, portalOf) => {
    const portal = portalOf();
    const result = await run(portal);
    expect(result.code, result.all).toBe(0);
    const steps = portal.requests.map((r) => `${r.method} ${r.path}`).filter((r) => /sign-in-wall|signin/.test(r));
    expect(steps.slice(0, 2)).toEqual(['GET /ei/x/sign-in-wall', 'POST /ei/edge/apis/user-account-control-v1/cws/v1/swg/account/signin']);
    const hours = await points(result.dir, 'hour', 'power');
    expect(hours.length).toBeGreaterThanOrEqual(48);
    for (const h of hours) expect(Number(h.fields.power_usage)).toBeCloseTo(portal.hourValue(FAKE_ACCOUNT.uuid, h.time) * 1000, 6);
    for (const token of portal.sessionCookies) expect(result.all).not.toContain(token);
  });

  it('a wrong password: one line naming the utility, no password', async () => {
    const result = await run(tokenPortal, 'sntl-wrong-swg-7Hq2');
    expect(result.code).toBe(1);
    expect(result.all).toMatch(/sign-in to Southwest Gas \(swg\) at POST \/ei\/edge\/apis\/user-account-control-v1\/cws\/v1\/swg\/account\/signin was refused: HTTP 401/);
    expect(result.all).not.toContain('sntl-wrong-swg-7Hq2');
  });
});
