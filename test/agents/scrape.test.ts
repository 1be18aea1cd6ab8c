/**
 * The scrape agent against fake devices (testing/fakes/scrape-devices.ts) serving realistic
 * payloads, using the ready-made configs in examples/scrape with their URLs pointed at the fake.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { scrape } from '../../src/agents/scrape/index.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { runAgent } from '../../src/run/pipeline.ts';
import { type ScrapeDevices, startScrapeDevices } from '../../testing/fakes/scrape-devices.ts';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/scrape');
const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/scrape');

let devices: ScrapeDevices;
let dir: string;
beforeAll(async () => {
  devices = await startScrapeDevices();
});
afterAll(async () => {
  await devices.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'homeflux-scrape-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An example config with its device URLs pointed at the fake. */
async function example(name: string): Promise<{ pages: { url: string; login?: { url: string } }[] }> {
  const config = YAML.parse(await readFile(path.join(EXAMPLES, name), 'utf8'));
  for (const page of config.pages) {
    page.url = page.url.replace(/^http:\/\/[\d.]+/, devices.url);
    if (page.login) page.login.url = page.login.url.replace(/^http:\/\/[\d.]+/, devices.url);
  }
  return config;
}

async function run(config: unknown, env: { [k: string]: string } = {}): Promise<{ code: number; out: string[]; err: string[] }> {
  const file = path.join(dir, 'scrape.json');
  await writeFile(file, JSON.stringify(config));
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAgent(scrape, {
    argv: [],
    env: { SCRAPE_CONFIG: file, HOMEFLUX_DATA_DIR: path.join(dir, 'data'), HOMEFLUX_SPOOL_DIR: path.join(dir, 'spool'), HOMEFLUX_TIMEZONE: 'UTC', ...env },
    streams: { out: (l) => out.push(l), err: (l) => err.push(l) },
  });
  return { code, out, err };
}

const minute = (): Promise<string[]> => readBucketFile(path.join(dir, 'data'), 'home-minute');
const fieldOf = (lines: string[], field: string): number | string | undefined => {
  for (const line of lines) {
    const m = new RegExp(`[ ,]${field}=("[^"]*"|[^ ,]+)`).exec(line);
    if (m) return m[1]!.startsWith('"') ? m[1]!.slice(1, -1) : Number(m[1]);
  }
  return undefined;
};

describe('scrape', () => {
  it('Shelly Gen1 /status: W as is, the W·min counter in Wh, °C to °F', async () => {
    const result = await run(await example('shelly-plug.yaml'));
    expect(result.code, result.err.join('\n')).toBe(0);
    const json = JSON.parse(await readFile(path.join(FIXTURES, 'shelly-plug-s-status.json'), 'utf8'));
    const lines = await minute();
    const plug = lines.filter((l) => l.startsWith('plug,'));
    expect(fieldOf(plug, 'power_w')).toBe(json.meters[0].power);
    expect(fieldOf(plug, 'energy_total_wh')).toBeCloseTo(json.meters[0].total / 60, 6);
    expect(fieldOf(lines.filter((l) => l.startsWith('temperature,')), 'temperature')).toBeCloseTo(json.tmp.tF, 1);
    expect(plug[0]).toMatch(/^plug,data_source=homeflux,location=fridge_plug,source=homeflux\.scrape energy_total_wh=[\d.]+,power_w=48\.12 \d+$/);
    expect(Number(plug[0]!.split(' ').pop()) % 60).toBe(0);
  });

  it('Tasmota Status 8: kWh totals in Wh, power and voltage', async () => {
    const result = await run(await example('tasmota-plug.yaml'));
    expect(result.code, result.err.join('\n')).toBe(0);
    const { StatusSNS } = JSON.parse(await readFile(path.join(FIXTURES, 'tasmota-status8.json'), 'utf8'));
    const lines = await minute();
    expect(fieldOf(lines, 'power_w')).toBe(StatusSNS.ENERGY.Power);
    expect(fieldOf(lines, 'energy_total_wh')).toBeCloseTo(StatusSNS.ENERGY.Total * 1000, 6);
    expect(fieldOf(lines, 'energy_today_wh')).toBeCloseTo(StatusSNS.ENERGY.Today * 1000, 6);
    expect(fieldOf(lines, 'voltage')).toBe(StatusSNS.ENERGY.Voltage);
  });

  it('APC card: logs in through the form (hidden token, cookie) and reads the status page', async () => {
    const before = devices.logins;
    const result = await run(await example('apc-ups-nmc.yaml'), { APC_NMC_USERNAME: devices.username, APC_NMC_PASSWORD: devices.password, HOMEFLUX_UNITS: 'metric' });
    expect(result.code, result.err.join('\n')).toBe(0);
    expect(devices.logins).toBe(before + 1);
    const ups = (await minute()).filter((l) => l.startsWith('ups,'));
    expect(ups).toHaveLength(1);
    expect(ups[0]).toMatch(/ battery_charge=100,input_voltage=121\.6,load_percent=18\.2,power_w=160,status="On Line" \d+$/);
    const temperature = (await minute()).filter((l) => l.startsWith('temperature,'));
    expect(fieldOf(temperature, 'temperature')).toBe(27);
    expect([...result.out, ...result.err].join('\n')).not.toContain(devices.password);
  });

  it('a failed login is one line naming the page; the other pages are still written', async () => {
    const apc = await example('apc-ups-nmc.yaml');
    const shelly = await example('shelly-plug.yaml');
    const result = await run({ pages: [...apc.pages, ...shelly.pages] }, { APC_NMC_USERNAME: devices.username, APC_NMC_PASSWORD: 'wrong password' });
    expect(result.code).toBe(1);
    const errors = result.err.filter((l) => /page "apc-ups"/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/page "apc-ups": login at http:\/\/127\.0\.0\.1:\d+\/logon\.htm failed .*check APC_NMC_USERNAME and APC_NMC_PASSWORD; its 6 value\(s\) not read/);
    expect(result.err.join('\n')).not.toContain('wrong password');
    const lines = await minute();
    expect(lines.some((l) => l.startsWith('ups,'))).toBe(false);
    expect(fieldOf(lines, 'power_w')).toBe(48.12);
  });

  it('a selector matching nothing and a non-number are one line each; the other values are written', async () => {
    const config = await example('apc-ups-nmc.yaml');
    const page = config.pages[0] as unknown as { values: unknown[] };
    page.values.push(
      { name: 'runtime', selector: '#value_Runtime', regex: '(\\d+)', unit: 'min', measurement: 'ups', field: 'runtime_min' },
      { name: 'selftest', selector: '#value_SelfTest', measurement: 'ups', field: 'self_test' },
    );
    const result = await run(config, { APC_NMC_USERNAME: devices.username, APC_NMC_PASSWORD: devices.password });
    expect(result.code).toBe(1);
    const problems = result.err.filter((l) => l.startsWith('error:') && /page "apc-ups" value/.test(l));
    expect(problems).toEqual([
      expect.stringMatching(/page "apc-ups" value "runtime": selector "#value_Runtime" matched nothing$/),
      expect.stringMatching(/page "apc-ups" value "selftest": expected a number, found "Passed"$/),
    ]);
    expect(fieldOf(await minute(), 'load_percent')).toBe(18.2);
  });

  it('a page without login that answers the login form, and a 503 page, are problems', async () => {
    const result = await run({
      pages: [
        { name: 'nologin', url: `${devices.url}/NMC/upsstat.htm`, location: 'ups', values: [{ name: 'load', selector: '#value_RealPowerPct', measurement: 'ups', field: 'load_percent' }] },
        { name: 'busy', url: `${devices.url}/maintenance`, location: 'x', values: [{ name: 'v', selector: 'p', measurement: 'm', field: 'f' }] },
      ],
    });
    expect(result.code).toBe(1);
    expect(result.err.join('\n')).toMatch(/page "nologin": .*answered a login form instead of the page; add a login/);
    expect(result.err.join('\n')).toMatch(/page "busy": .*HTTP 503/);
  });

  it('an invalid config or an unset credential variable is a configuration error naming it', async () => {
    const bad = await run({ pages: [{ name: 'x', url: `${devices.url}/status`, location: 'x', values: [{ name: 'v', measurement: 'm', field: 'f' }] }] });
    expect(bad.code).toBe(2);
    expect(bad.err.join('\n')).toMatch(/SCRAPE_CONFIG .*pages\.0\.values\.0: give exactly one of "selector" \(HTML\) or "path" \(JSON\)/);
    const unset = await run(await example('apc-ups-nmc.yaml'));
    expect(unset.code).toBe(2);
    expect(unset.err.join('\n')).toMatch(/APC_NMC_USERNAME is required but not set \(login of page "apc-ups"/);
  });
});
