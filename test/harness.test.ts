/**
 * Proves the test harness against the real servers: InfluxDB 1.x and VictoriaMetrics from
 * the global setup, NUT with a real UPS dump, and the fault proxy in front of InfluxDB.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../testing/helpers/fault-proxy.ts';
import { freePort, freePorts } from '../testing/helpers/ports.ts';
import { requireBinary } from '../testing/helpers/process.ts';
import {
  influxV1Client,
  startInfluxV1,
  startNut,
  startVictoriaMetrics,
  vmClient,
  type NutServer,
} from '../testing/helpers/servers.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/nut/${name}`, import.meta.url));
const CP900 = fixture('CyberPowerSystems_CP900EPFCLCD.dev');
const T2014 = 1_400_000_000; // 2014-05-13T16:53:20Z
const unique = (prefix: string): string => `${prefix}_${process.pid}_${Date.now()}`;

describe('ports and binaries', () => {
  it('hands out distinct free loopback ports', async () => {
    const single = await freePort();
    const many = await freePorts(3);
    expect(single).toBeGreaterThan(0);
    expect(new Set(many).size).toBe(3);
  });

  it('fails with the install command when a binary is missing', async () => {
    await expect(requireBinary('no-such-server-binary', 'apt-get install -y nothing')).rejects.toThrow(
      'no-such-server-binary not found: install it with "apt-get install -y nothing"',
    );
  });
});

describe('InfluxDB 1.x (shared)', () => {
  const influx = influxV1Client(inject('influxV1Url'));

  it('stores a line written with /write?precision=s and reads it back', async () => {
    const db = unique('harness');
    await influx.createDatabase(db);
    await influx.write(db, `power,host=a kwh=1.5,count=2i ${T2014}`);
    expect(await influx.rows(db, 'power')).toEqual([{ time: T2014, host: 'a', kwh: 1.5, count: 2 }]);
    const [result] = await influx.query(db, 'SELECT count(kwh) FROM power');
    expect(result?.series?.[0]?.values[0]?.[1]).toBe(1);
    expect(await influx.countPoints(db, 'nothing_here')).toBe(0);
  });

  it('rejects a field type conflict with 400 and the reason', async () => {
    const db = unique('conflict');
    await influx.createDatabase(db);
    await influx.write(db, `m v=1 ${T2014}`);
    await expect(influx.write(db, `m v="text" ${T2014 + 1}`)).rejects.toThrow(/400.*field type conflict/);
  });
});

describe('InfluxDB 1.x with auth', () => {
  it('answers 401 without credentials and accepts the admin user', async () => {
    const server = await startInfluxV1({ auth: { username: 'admin', password: "pa'ss" } });
    try {
      const anonymous = await fetch(`${server.url}/query?q=SHOW%20DATABASES`);
      expect(anonymous.status).toBe(401);
      await server.createDatabase('secured');
      await server.write('secured', `m v=1 ${T2014}`);
      expect(await server.countPoints('secured', 'm')).toBe(1);
    } finally {
      await server.stop();
    }
  });
});

describe('VictoriaMetrics (shared)', () => {
  const vm = vmClient(inject('vmUrl'));

  it('keeps a 2014 point written with /api/v2/write (gzip) without any bucket label', async () => {
    const measurement = unique('harness_v2');
    const response = await fetch(`${vm.url}/api/v2/write?bucket=home_hourly&org=home&precision=s`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: gzipSync(`${measurement},host=a kwh=1.5,count=2i ${T2014}\n`),
    });
    expect(response.status).toBe(204);
    const series = await vm.exportSeries(`{__name__=~"${measurement}_.*"}`);
    expect(series.map((s) => s.metric).sort((a, b) => String(a.__name__).localeCompare(String(b.__name__)))).toEqual([
      { __name__: `${measurement}_count`, host: 'a' },
      { __name__: `${measurement}_kwh`, host: 'a' },
    ]);
    expect(series.flatMap((s) => s.timestamps)).toEqual([T2014 * 1000, T2014 * 1000]);
    expect(await vm.countPoints(`{__name__="${measurement}_kwh"}`)).toBe(1);
  });

  it('labels points written with /write?db=B as db="B" and turns string fields into 0', async () => {
    const measurement = unique('harness_v1');
    const response = await fetch(`${vm.url}/write?db=home_daily&precision=s`, {
      method: 'POST',
      body: `${measurement},host=b kwh=2.5,note="text" ${T2014}\n`,
    });
    expect(response.status).toBe(204);
    const series = await vm.exportSeries(`{__name__=~"${measurement}_.*"}`);
    const byName = (name: string) => series.find((s) => s.metric.__name__ === `${measurement}_${name}`);
    expect(series).toHaveLength(2);
    expect(byName('kwh')).toEqual({
      metric: { __name__: `${measurement}_kwh`, db: 'home_daily', host: 'b' },
      values: [2.5],
      timestamps: [T2014 * 1000],
    });
    expect(byName('note')?.values).toEqual([0]);
  });

  it('silently drops far-future points and counts them as ignored', async () => {
    const measurement = unique('harness_future');
    const before = await vm.ignoredRows();
    const tomorrow = Math.floor(Date.now() / 1000) + 86_400;
    const response = await fetch(`${vm.url}/write?precision=s`, {
      method: 'POST',
      body: `${measurement} v=1 ${tomorrow}\n${measurement} v=2 4102444800\n`,
    });
    expect(response.status).toBe(204);
    // Tomorrow is kept (and visible because exportSeries asks up to now+3d); 2100 is not.
    expect(await vm.countPoints(`{__name__="${measurement}_v"}`)).toBe(1);
    await expect.poll(async () => (await vm.ignoredRows()).bigTimestamp).toBe(before.bigTimestamp + 1);
  });

  it('keeps duplicate samples unless started with dedup', async () => {
    const measurement = unique('harness_dup');
    const line = `${measurement},host=x v=1 ${T2014}\n`;
    const dedup = await startVictoriaMetrics({ dedup: true });
    try {
      for (const client of [vm, dedup]) {
        for (let i = 0; i < 2; i++) {
          const url = `${client.url}/api/v2/write?bucket=b&precision=s`;
          const response = await fetch(url, { method: 'POST', body: line });
          expect(response.status).toBe(204);
        }
      }
      expect(await vm.countPoints(`{__name__="${measurement}_v"}`)).toBe(2);
      expect(await dedup.countPoints(`{__name__="${measurement}_v"}`)).toBe(1);
    } finally {
      await dedup.stop();
    }
  });
});

describe('NUT (dummy-ups + upsd)', () => {
  let nut: NutServer;
  beforeAll(async () => {
    nut = await startNut({ cp900: CP900, fake: fixture('fake.dev') }, { maxAge: 5 });
  });
  afterAll(async () => {
    await nut?.stop();
  });

  it('serves the values of the dump', async () => {
    const load = /^ups\.load: (.*)$/m.exec(await readFile(CP900, 'utf8'))?.[1];
    expect(load).toBe('13');
    expect(await nut.nutCommand('GET VAR cp900 ups.load')).toBe(`VAR cp900 ups.load "${load}"\n`);
    expect(await nut.nutCommand('GET VAR fake ups.load')).toBe('VAR fake ups.load "23.0"\n');
    expect(await nut.nutCommand('LIST UPS')).toContain('UPS cp900 "homeflux test UPS cp900"');
  });

  it('lets the default user SET a variable', async () => {
    const reply = await nut.nutCommand([
      `USERNAME ${nut.username}`,
      `PASSWORD ${nut.password}`,
      'SET VAR cp900 battery.charge.low "15"',
    ]);
    expect(reply).toBe('OK\nOK\nOK\n');
    await expect.poll(() => nut.nutCommand('GET VAR cp900 battery.charge.low')).toBe(
      'VAR cp900 battery.charge.low "15"\n',
    );
  });

  it('reports a stopped driver and serves again after a restart', async () => {
    await nut.stopDriver('fake');
    expect(await nut.nutCommand('GET VAR fake ups.load')).toBe('ERR DRIVER-NOT-CONNECTED\n');
    expect(await nut.nutCommand('GET VAR cp900 ups.load')).toBe('VAR cp900 ups.load "13"\n');
    await nut.startDriver('fake');
    expect(await nut.nutCommand('GET VAR fake ups.load')).toBe('VAR fake ups.load "23.0"\n');
  });

  it('picks up a rewritten dump', async () => {
    const dump = await readFile(nut.devPath('fake'), 'utf8');
    await writeFile(nut.devPath('fake'), dump.replace('ups.load: 23.0', 'ups.load: 77.0'));
    await expect.poll(() => nut.nutCommand('GET VAR fake ups.load'), { timeout: 15_000, interval: 250 }).toBe(
      'VAR fake ups.load "77.0"\n',
    );
  });

  it('turns a paused driver stale after MAXAGE', async () => {
    nut.pauseDriver('cp900');
    try {
      await expect.poll(() => nut.nutCommand('GET VAR cp900 ups.load'), { timeout: 15_000, interval: 500 }).toBe(
        'ERR DATA-STALE\n',
      );
    } finally {
      nut.resumeDriver('cp900');
    }
    await expect.poll(() => nut.nutCommand('GET VAR cp900 ups.load'), { timeout: 15_000, interval: 250 }).toBe(
      'VAR cp900 ups.load "13"\n',
    );
  });
});

describe('fault proxy in front of InfluxDB 1.x', () => {
  const influx = influxV1Client(inject('influxV1Url'));
  const db = unique('proxy');
  let proxy: FaultProxy;
  beforeAll(async () => {
    await influx.createDatabase(db);
    proxy = await startFaultProxy(influx.url);
  });
  afterAll(async () => {
    await proxy?.stop();
  });
  const write = (body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${proxy.url}/write?db=${db}&precision=s`, { method: 'POST', body, headers });

  it('passes requests through unchanged, gzip bodies included', async () => {
    const response = await write(gzipSync(`m,via=proxy v=1 ${T2014}\n`), { 'content-encoding': 'gzip' });
    expect(response.status).toBe(204);
    expect(await influx.countPoints(db, 'm')).toBe(1);
    expect(proxy.requests.at(-1)).toMatchObject({ method: 'POST', status: 204, path: `/write?db=${db}&precision=s` });
    expect(proxy.requests.at(-1)?.headers['content-encoding']).toBe('gzip');
  });

  it('answers a planned 429 with Retry-After once, then forwards again', async () => {
    proxy.plan({ kind: 'status', status: 429, retryAfter: 2, path: '/write' });
    const throttled = await write(`m v=2 ${T2014 + 1}`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('2');
    expect(await throttled.json()).toMatchObject({ code: 'too many requests' });
    expect((await write(`m v=2 ${T2014 + 1}`)).status).toBe(204);
    const [first, second] = proxy.requests.slice(-2);
    expect([first?.status, second?.status]).toEqual([429, 204]);
    expect(second!.time).toBeGreaterThanOrEqual(first!.time);
  });

  it('answers 413 for bodies over the limit until cleared', async () => {
    proxy.plan({ kind: 'tooLarge', maxBytes: 100 });
    expect((await write(`m v=3 ${T2014 + 2}`)).status).toBe(204);
    const big = Array.from({ length: 10 }, (_, i) => `m v=${i} ${T2014 + 10 + i}`).join('\n');
    const rejected = await write(big);
    expect(rejected.status).toBe(413);
    expect(await rejected.json()).toMatchObject({ code: 'request too large', maxLength: 100 });
    expect((await write(big)).status).toBe(413);
    proxy.clear();
    expect((await write(big)).status).toBe(204);
  });

  it('resets, hangs and goes down on request', async () => {
    proxy.plan({ kind: 'reset' });
    await expect(write('m v=4')).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ status: 0, fault: 'reset' });

    proxy.plan({ kind: 'hang', path: '/ping' });
    await expect(fetch(`${proxy.url}/ping`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ path: '/ping', status: 0, fault: 'hang' });

    proxy.plan({ kind: 'down' });
    await expect(fetch(`${proxy.url}/ping`)).rejects.toThrow();
    await expect(fetch(`${proxy.url}/ping`)).rejects.toThrow();
    proxy.clear();
    expect((await fetch(`${proxy.url}/ping`)).status).toBe(204);
  });
});
