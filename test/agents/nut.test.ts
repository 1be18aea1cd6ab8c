/**
 * The nut agent against a real upsd with dummy-ups drivers fed by real device dumps
 * (test/fixtures/nut, see SOURCES.md). Nothing is mocked: the protocol client talks TCP to
 * /lib/nut/upsd, and records land in the file store.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteArgument, splitWords } from '../../src/agents/nut/client.ts';
import { nut as nutModule } from '../../src/agents/nut/index.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { parseHosts } from '../../src/agents/nut/settings.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { startSilentServer, type SilentServer, waitForReply } from '../../testing/helpers/nut-extra.ts';
import { type NutServer, startNut } from '../../testing/helpers/nut.ts';
import { tempHome } from '../../testing/helpers/run-agent.ts';
import { runBackfill } from '../../src/run/backfill/index.ts';

const FIXTURES = 'test/fixtures/nut';
const USERS = '[monitor]\n  password = right-secret\n  upsmon secondary\n';

/** Run the nut script in-process; output captured. */
async function run(argv: string[], env: Record<string, string>, now?: number): Promise<{ code: number; out: string[]; err: string[]; all: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(nutModule, { argv, env, now, streams: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out, err, all: [...out, ...err].join('\n') };
}

/** Fields of the line-protocol lines of one location: `{ time, field: value }`. */
function pointsOf(lines: string[], location: string): Array<Record<string, string>> {
  return lines
    .filter((line) => line.includes(`,location=${location},`))
    .map((line) => {
      const [, fields = '', time = ''] = /^\S+ (.*) (\d+)$/.exec(line) ?? [];
      const out: Record<string, string> = { time };
      for (const match of fields.matchAll(/([a-z_]+)=("(?:[^"\\]|\\.)*"|[^,]+)/g)) out[match[1]!] = match[2]!.replace(/^"|"$/g, '');
      return out;
    });
}

let nut: NutServer;
let other: NutServer;
let silent: SilentServer;
let derivedDir: string;

beforeAll(async () => {
  // A VA-only UPS (no real-power variable), derived from the CP1500 dump: only ups.power.nominal.
  derivedDir = await mkdtemp(join(tmpdir(), 'homeflux-nut-fixture-'));
  const cp1500 = await readFile(join(FIXTURES, 'ha_CP1500PFCLCD.dev'), 'utf8');
  const vaOnly = join(derivedDir, 'va_only.dev');
  await writeFile(vaOnly, cp1500.replace(/^ups\.realpower\.nominal: .*$/m, 'ups.power.nominal: 1500').replace(/^ups\.load: .*$/m, 'ups.load: 25'));
  [nut, other, silent] = await Promise.all([
    startNut(
      {
        cp900: `${FIXTURES}/CyberPowerSystems_CP900EPFCLCD.dev`,
        cp900mixed: `${FIXTURES}/CyberPowerSystems_CP900EPFCLCD_full_mixed_ids.dev`,
        fake: `${FIXTURES}/fake.dev`,
        fakestr: `${FIXTURES}/fake_force_float_with_string.dev`,
        apc600: `${FIXTURES}/ha_BACKUPSES600M1.dev`,
        cp1500: `${FIXTURES}/ha_CP1500PFCLCD.dev`,
        eaton: `${FIXTURES}/ha_EATON5P1550.dev`,
        pr3000: `${FIXTURES}/ha_PR3000RT2U.dev`,
        vaonly: vaOnly,
        varying: `${FIXTURES}/CyberPowerSystems_CP900EPFCLCD.dev`,
        stale: `${FIXTURES}/fake.dev`,
        stopped: `${FIXTURES}/fake.dev`,
      },
      { users: USERS, maxAge: 3 },
    ),
    startNut({ ups: `${FIXTURES}/ha_PR3000RT2U.dev` }, { users: '[monitor]\n  password = other-secret\n  upsmon secondary\n' }),
    startSilentServer(),
  ]);
});

afterAll(async () => {
  await Promise.all([nut?.stop(), other?.stop(), silent?.stop()]);
});

// Expected watts worked out by hand from each dump (NUT: ups.load in %, *.realpower* in W,
// *.power.nominal in VA). Never computed with the code under test.
const WATTS: Array<{ ups: string; watts: number; method: string; why: string }> = [
  { ups: 'cp900', watts: 70.2, method: 'ups.load*ups.realpower.nominal', why: 'ups.load 13 % × ups.realpower.nominal 540 W = 70.2 W' },
  { ups: 'cp900mixed', watts: 70.2, method: 'ups.load*ups.realpower.nominal', why: '13 % × 540 W = 70.2 W (same device, odd USB ids)' },
  { ups: 'fake', watts: 41, method: 'ups.realpower', why: 'ups.realpower 41.0 W, measured' },
  { ups: 'fakestr', watts: 41, method: 'ups.realpower', why: 'ups.realpower 41.0 W (string variables around it)' },
  { ups: 'apc600', watts: 72.6, method: 'ups.load*ups.realpower.nominal', why: 'Back-UPS ES 600M1: 22 % × 330 W = 72.6 W' },
  { ups: 'cp1500', watts: 0, method: 'ups.load*ups.realpower.nominal', why: 'CP1500PFCLCD: 0 % × 900 W = 0 W' },
  { ups: 'eaton', watts: 0, method: 'output.realpower', why: 'Eaton 5P 1550 (snmp-ups): no ups.realpower*, output.realpower 0 W' },
  { ups: 'pr3000', watts: 360, method: 'ups.load*ups.realpower.nominal', why: 'PR3000RT2U: 12 % × 3000 W = 360 W' },
  { ups: 'vaonly', watts: 225, method: 'ups.load*ups.power.nominal*pf', why: '25 % × 1500 VA × power factor 0.6 = 225 W' },
];

describe('nut: real device dumps → watts', () => {
  it.each(WATTS)('$ups: $why', async ({ ups, watts, method }) => {
    const home = await tempHome('nut-watts');
    const now = 1_760_000_000;
    const result = await run([], { ...home.env, NUT_HOSTS: `${ups}=${ups}@127.0.0.1:${nut.port}` }, now);
    expect(result.all).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    const [point] = pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute'), ups);
    expect(point).toMatchObject({ time: String(now), power_w: String(watts), power_method: method });
    const [hour] = pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour'), ups);
    // One sample in the hour: energy = watts × 1 h, at the start of the hour (1759996800 = 08:00Z).
    expect(hour).toEqual({ time: '1759996800', power_usage: String(watts), samples: '1' });
  });

  it('writes load, battery charge, input voltage and status as the dump says', async () => {
    const home = await tempHome('nut-fields');
    const result = await run([], { ...home.env, NUT_HOSTS: `a=apc600@127.0.0.1:${nut.port}` }, 1_760_000_000);
    expect(result.code).toBe(0);
    const lines = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(lines).toEqual([
      'ups,data_source=homeflux,location=a,source=homeflux.nut,ups=apc600 battery_charge=100,input_voltage=123,load_percent=22,power_method="ups.load*ups.realpower.nominal",power_w=72.6,status="OL" 1760000000',
    ]);
  });

  it('NUT_POWER_FACTOR changes only the VA-based estimate', async () => {
    const home = await tempHome('nut-pf');
    await run([], { ...home.env, NUT_HOSTS: `v=vaonly@127.0.0.1:${nut.port},p=pr3000@127.0.0.1:${nut.port}`, NUT_POWER_FACTOR: '0.9' }, 1_760_000_000);
    const lines = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(pointsOf(lines, 'v')[0]?.power_w).toBe('337.5'); // 25 % × 1500 VA × 0.9
    expect(pointsOf(lines, 'p')[0]?.power_w).toBe('360'); // 12 % × 3000 W, unchanged
  });

  it('NUT_UPS_NAME=* samples every UPS the server lists, tagged ups=<name>', async () => {
    const home = await tempHome('nut-all');
    const result = await run([], { ...home.env, NUT_HOSTS: `rack=127.0.0.1:${other.port}`, NUT_UPS_NAME: '*' }, 1_760_000_000);
    expect(result.code).toBe(0);
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).toEqual([expect.stringMatching(/^ups,.*location=rack,.*ups=ups .*,power_method="ups\.load\*ups\.realpower\.nominal",power_w=360,/)]);
  });
});

describe('nut: failures give one line each and the healthy hosts are still written', () => {
  it('stale driver, stopped driver, unknown UPS, silent server, refused port', async () => {
    nut.pauseDriver('stale');
    await nut.stopDriver('stopped');
    await waitForReply(nut, 'GET VAR stale ups.load', 'ERR DATA-STALE');
    const home = await tempHome('nut-errors');
    const hosts = [
      `good=cp900@127.0.0.1:${nut.port}`,
      `stale=stale@127.0.0.1:${nut.port}`,
      `stopped=stopped@127.0.0.1:${nut.port}`,
      `unknown=nope@127.0.0.1:${nut.port}`,
      `silent=127.0.0.1:${silent.port}`,
      `refused=127.0.0.1:1`,
      `good2=ups@127.0.0.1:${other.port}`,
    ].join(',');
    const started = Date.now();
    const result = await run([], { ...home.env, NUT_HOSTS: hosts, NUT_READ_TIMEOUT: '1' }, 1_760_000_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.code).toBe(1);
    const errors = result.err.filter((line) => line.startsWith('error:'));
    expect(errors).toHaveLength(5);
    const line = (name: string): string => errors.find((e) => e.startsWith(`error: nut: ${name}:`)) ?? `(no line for ${name})`;
    expect(line('stale')).toMatch(/UPS "stale": .*no fresh data.*\(ERR DATA-STALE\)$/);
    expect(line('stopped')).toMatch(/UPS "stopped": .*not connected to the UPS driver.*\(ERR DRIVER-NOT-CONNECTED\)/);
    expect(line('unknown')).toMatch(/UPS "nope": .*\(ERR UNKNOWN-UPS\); it lists: apc600, cp1500, cp900, /);
    expect(line('silent')).toMatch(new RegExp(`upsd 127\\.0\\.0\\.1:${silent.port}: LIST VAR ups: no reply after 1 s$`));
    expect(line('refused')).toMatch(/upsd 127\.0\.0\.1:1: cannot connect: connect ECONNREFUSED/);
    expect(silent.connections()).toBeGreaterThan(0);
    const minute = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(minute.map((l) => /location=(\w+)/.exec(l)?.[1]).sort()).toEqual(['good', 'good2']);
    nut.resumeDriver('stale');
    await nut.startDriver('stopped');
  });

  it('a wrong password: ERR ACCESS-DENIED for that server only, and the password never shows', async () => {
    const home = await tempHome('nut-auth');
    const env = { ...home.env, NUT_HOSTS: `main=cp900@127.0.0.1:${nut.port},rack=ups@127.0.0.1:${other.port}`, NUT_USERNAME: 'monitor', NUT_PASSWORD: 'other-secret' };
    const result = await run([], env, 1_760_000_000);
    expect(result.code).toBe(1);
    const errors = result.err.filter((line) => line.startsWith('error:'));
    expect(errors).toEqual([expect.stringMatching(/^error: nut: main: upsd 127\.0\.0\.1:\d+: LOGIN cp900: upsd refused access: wrong NUT_USERNAME\/NUT_PASSWORD.*\(ERR ACCESS-DENIED\)$/)]);
    expect(result.all).not.toContain('other-secret');
    expect(result.all).not.toContain('right-secret');
    const minute = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(minute).toHaveLength(1);
    expect(minute[0]).toContain('location=rack');
    // The right password for that server passes the LOGIN check.
    const ok = await run([], { ...env, NUT_HOSTS: `main=cp900@127.0.0.1:${nut.port}`, NUT_PASSWORD: 'right-secret' }, 1_760_000_000);
    expect(ok.code).toBe(0);
  });

  it('configuration errors exit 2 naming the variable', async () => {
    const home = await tempHome('nut-config');
    for (const [env, message] of [
      [{}, 'NUT_HOSTS is required'],
      [{ NUT_HOSTS: 'no port=host' }, 'NUT_HOSTS is invalid'],
      [{ NUT_HOSTS: 'a=h:99999' }, 'port must be 1-65535'],
      [{ NUT_HOSTS: 'a=h', NUT_PASSWORD: 'pw-value' }, 'NUT_USERNAME is required when NUT_PASSWORD is set'],
      [{ NUT_HOSTS: 'a=h', NUT_POWER_FACTOR: '2' }, 'NUT_POWER_FACTOR is invalid'],
    ] as const) {
      const result = await run([], { ...home.env, ...env });
      expect(result.code).toBe(2);
      expect(result.all).toContain(message);
      expect(result.all).not.toContain('pw-value');
    }
    expect((await run(['--since', '1d'], { ...home.env, NUT_HOSTS: 'a=h' })).code).toBe(2);
    expect((await run(['--interval', '5s'], { ...home.env, NUT_HOSTS: 'a=h' })).code).toBe(2);
  });
});

describe('nut: hourly energy across invocations', () => {
  const H = 1_759_996_800; // 2025-10-09T08:00:00Z
  // dummy-ups (2.8.0, mode dummy-once) picks up only some rewrites of its dump, so the driver
  // is restarted on the new dump instead.
  const setLoad = async (load: number): Promise<void> => {
    const dev = nut.devPath('varying');
    await nut.stopDriver('varying');
    await writeFile(dev, (await readFile(dev, 'utf8')).replace(/^ups\.load: .*$/m, `ups.load: ${load}`));
    await nut.startDriver('varying');
    await waitForReply(nut, 'GET VAR varying ups.load', `"${load}"`);
  };

  it('is the mean of the hour samples × 1 h, rewritten as samples arrive, robust to gaps', async () => {
    const home = await tempHome('nut-hourly');
    const env = { ...home.env, NUT_HOSTS: `srv=varying@127.0.0.1:${nut.port}` };
    const hourPoints = async (): Promise<Array<Record<string, string>>> => pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour'), 'srv');

    await setLoad(10); // 10 % × 540 W = 54 W
    expect((await run([], env, H + 60)).code).toBe(0);
    expect(await hourPoints()).toEqual([{ time: String(H), power_usage: '54', samples: '1' }]);

    await setLoad(20); // 20 % × 540 W = 108 W; the samples between :02 and :29 are missed
    expect((await run([], env, H + 1800)).code).toBe(0);
    expect(await hourPoints()).toEqual([{ time: String(H), power_usage: '81', samples: '2' }]); // (54 + 108) / 2

    await setLoad(30); // 30 % × 540 W = 162 W, in the next hour
    expect((await run([], env, H + 3600 + 60)).code).toBe(0);
    expect(await hourPoints()).toEqual([
      { time: String(H), power_usage: '81', samples: '2' },
      { time: String(H + 3600), power_usage: '162', samples: '1' },
    ]);
    expect((await run([], env, H + 3600 + 120)).code).toBe(0); // same 162 W again
    expect((await run([], env, H + 7200 + 60)).code).toBe(0); // a third hour: 162 W
    expect(await hourPoints()).toEqual([
      { time: String(H), power_usage: '81', samples: '2' },
      { time: String(H + 3600), power_usage: '162', samples: '2' },
      { time: String(H + 7200), power_usage: '162', samples: '1' },
    ]);
    // Only the current and previous hour stay in the state file.
    const state = JSON.parse(await readFile(join(home.env.HOMEFLUX_DATA_DIR, 'nut-state.json'), 'utf8')) as { series: Record<string, number[][]> };
    expect(state.series['srv/varying']?.map(([t]) => t)).toEqual([H + 3660, H + 3720, H + 7260]);
    // Five samples, five minute points.
    expect(pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute'), 'srv').map((p) => p.power_w)).toEqual(['54', '108', '162', '162', '162']);
  });

  it('--dry-run writes nothing and leaves the state file alone', async () => {
    const home = await tempHome('nut-dry');
    const result = await run(['--dry-run'], { ...home.env, NUT_HOSTS: `srv=cp900@127.0.0.1:${nut.port}` }, H + 60);
    expect(result.code).toBe(0);
    await expect(readFile(join(home.env.HOMEFLUX_DATA_DIR, 'nut-state.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).toEqual([]);
  });

  it('--dry-run through backfill leaves the state file alone too (the agent is told, not the config)', async () => {
    const home = await tempHome('nut-dry-backfill');
    const out: string[] = [];
    const code = await runBackfill({ argv: ['nut', '--since', '2h', '--dry-run'], env: { ...home.env, NUT_HOSTS: `srv=cp900@127.0.0.1:${nut.port}` }, streams: { out: (l) => out.push(l), err: (l) => out.push(l) } });
    expect(code, out.join('\n')).toBe(0);
    await expect(readFile(join(home.env.HOMEFLUX_DATA_DIR, 'nut-state.json'), 'utf8')).rejects.toThrow(/ENOENT/);
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).toEqual([]);
  });
});

describe('nut: --watch', () => {
  it('samples every interval and exits 0 on SIGTERM after writing', async () => {
    const home = await tempHome('nut-watch');
    // tsx's own binary (what `npx tsx` runs): npx itself does not pass SIGTERM on to its child.
    const child = spawn('node_modules/.bin/tsx', ['scripts/nut.ts', '--watch', '--interval', '1s'], {
      env: { ...process.env, ...home.env, NUT_HOSTS: `w=cp900@127.0.0.1:${nut.port}`, INFLUX_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    let lines: string[] = [];
    while (lines.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      lines = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    }
    expect(lines.length, output).toBeGreaterThanOrEqual(2);
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toMatch(/nut: stopped after \d+ sample\(s\)/);
    const after = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(after.every((l) => l.includes('power_w=70.2'))).toBe(true);
    const [hour] = pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour'), 'w');
    // Every sample of the run is in the hourly mean (unless the run crossed an hour boundary).
    expect(Number(hour?.samples)).toBeGreaterThanOrEqual(1);
    expect(hour?.power_usage).toBe('70.2');
    // Each sample also rewrote the day and week totals: the sum of their hours (HOMEFLUX_TIMEZONE=UTC).
    const hours = pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour'), 'w');
    const total = String(Math.round(hours.reduce((sum, h) => sum + Number(h.power_usage) * 1000, 0)) / 1000);
    for (const bucket of ['home-day', 'home-week']) {
      const points = pointsOf(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, bucket), 'w');
      // A run that crossed midnight has two days; they then add up to the hours' total.
      const sum = String(Math.round(points.reduce((s, p) => s + Number(p.power_usage) * 1000, 0)) / 1000);
      expect([sum, points.reduce((n, p) => n + Number(p.hours), 0)], bucket).toEqual([total, hours.length]);
    }
  });
});

describe('nut protocol helpers', () => {
  it('splits quoted values with backslash escapes', () => {
    expect(splitWords('VAR ups device.location "Upper floor"')).toEqual(['VAR', 'ups', 'device.location', 'Upper floor']);
    expect(splitWords('VAR ups x "a \\"quoted\\" \\\\ value"')).toEqual(['VAR', 'ups', 'x', 'a "quoted" \\ value']);
    expect(splitWords('VAR ups x ""')).toEqual(['VAR', 'ups', 'x', '']);
    expect(() => splitWords('VAR ups x "open')).toThrow(/unterminated/);
  });

  it('quotes arguments and refuses line breaks', () => {
    expect(quoteArgument('ups.load')).toBe('ups.load');
    expect(quoteArgument('pa ss"w\\rd')).toBe('"pa ss\\"w\\\\rd"');
    expect(() => quoteArgument('x\nLOGOUT')).toThrow(/line break/);
  });

  it('parses NUT_HOSTS entries', () => {
    expect(parseHosts('home=192.168.1.2, rack=ups2@nas.lan:3500,v6=[fd00::2]:3493')).toEqual([
      { name: 'home', host: '192.168.1.2', port: undefined, ups: undefined },
      { name: 'rack', host: 'nas.lan', port: 3500, ups: ['ups2'] },
      { name: 'v6', host: 'fd00::2', port: 3493, ups: undefined },
    ]);
    expect(parseHosts('a=h,a=i')).toMatch(/used twice/);
  });
});
