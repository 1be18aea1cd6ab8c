/**
 * Every utility of the table signs in through its family's fake and collects hourly use into the
 * file store: a utility added without a fake of its sign-in fails here. Expected values are the
 * fake portal's own data; the data paths must carry the utility's Opower code.
 */
import { describe, expect, it } from 'vitest';
import { opower } from '../../src/agents/opower/index.ts';
import { UTILITIES } from '../../src/agents/opower/utilities.ts';
import { startFamily } from '../../testing/fakes/signin-families.ts';
import { FAKE_ACCOUNT } from '../../testing/fakes/opower-portal.ts';
import { readTree, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';
import { points } from './opower-helpers.ts';

const NOW = Math.floor(Date.parse('2026-04-01T16:00:00Z') / 1000);
const CREDENTIALS = { username: 'sweep@example.com', password: 'sntl-sweep-password-5Rt' };

describe('every utility in the table', () => {
  it('has at least 25 utilities', () => {
    expect(Object.keys(UTILITIES).length).toBeGreaterThanOrEqual(25);
  });

  it.each(Object.values(UTILITIES).map((u) => [u.id, u] as const))('%s: signs in through its family fake and stores the hours', async (_id, utility) => {
    const fake = await startFamily(utility, CREDENTIALS, { now: NOW, meteredUntil: NOW });
    try {
      const home = await tempHome(`sweep-${utility.id}`);
      const env = { ...home.env, HOMEFLUX_TIMEZONE: utility.timezone, ...fake.env };
      expect(await fake.login(env)).toBe(0);
      const result = await runCaptured(opower, ['--since', '2026-03-28', '--until', '2026-03-29'], env, { now: NOW });
      expect(result.code, result.all).toBe(0);
      const hours = await points(home.env.HOMEFLUX_DATA_DIR, 'hour', 'power');
      // The days asked for, widened to their local week (Monday 23 – Sunday 29 March, DST-free).
      expect(hours).toHaveLength(7 * 24);
      for (const h of hours) expect(Number(h.fields.power_usage)).toBeCloseTo(fake.portal.hourValue(FAKE_ACCOUNT.uuid, h.time) * 1000, 6);
      expect(new Set(hours.map((h) => h.tags.source))).toEqual(new Set([`homeflux.opower.${utility.id}`]));
      const dataPaths = fake.portal.requests.map((q) => q.path).filter((p) => p.includes('/utilities/') || p.includes('/multi-account-v1/'));
      expect(dataPaths.length).toBeGreaterThan(0);
      for (const p of dataPaths) expect(p).toMatch(new RegExp(`/cws/(utilities/)?${fake.code}/`));
      const files = [...(await readTree(home.dir)).values()].join('\n');
      for (const secret of [CREDENTIALS.password, ...fake.issued()]) expect(result.all + files).not.toContain(secret);
    } finally {
      await fake.stop();
    }
  });
});
