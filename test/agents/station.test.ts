/**
 * The station agent: its receiver takes real upload requests of both protocols
 * (test/fixtures/station, see SOURCES.md) over HTTP, and the records land in the file store.
 * Expected values are worked out by hand from the fixtures in the comments.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { stationAgent } from '../../src/agents/station/index.ts';
import { parseDateUtc, parseUpload } from '../../src/agents/station/parse.ts';
import { receiverArguments } from '../../src/agents/station/arguments.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { decodePoint } from '../../src/lineprotocol.ts';
import { freePort } from '../../testing/helpers/ports.ts';
import { type CapturedRun, runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

const ECOWITT = (await readFile('test/fixtures/station/ecowitt-gw1000.body', 'utf8')).trim();
const WU = (await readFile('test/fixtures/station/wunderground-wiki.url', 'utf8')).trim();
const PASSKEY = '0BA6979558C5D2ADB6B20F4B23A685AF';

/** A running receiver (in-process, the real pipeline and watch loop) and how to stop it. */
async function receiver(env: Record<string, string>, now: number): Promise<{ url: string; home: { env: Record<string, string> }; stop(): Promise<CapturedRun> }> {
  const home = await tempHome('station');
  const port = await freePort();
  const controller = new AbortController();
  const running = runCaptured(stationAgent, ['--watch', '--interval', '60s'], { ...home.env, STATION_LISTEN: `127.0.0.1:${port}`, STATION_PASSKEY: PASSKEY, STATION_ID: 'KCASANFR5', STATION_PASSWORD: 'XXXXXX', ...env }, { now, signal: controller.signal });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${url}/ready`);
      break;
    } catch {
      if (i > 100) throw new Error('the receiver did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    home,
    async stop() {
      controller.abort();
      return running;
    },
  };
}

const post = (url: string, body: string): Promise<Response> => fetch(`${url}/data/report/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
async function points(dir: string, bucket: string): Promise<Record<string, Record<string, number>>> {
  const lines = await readBucketFile(dir, bucket);
  return Object.fromEntries(lines.map((l) => decodePoint(l, bucket)).map((p) => [`${p.measurement}/${p.tags.location}@${p.time}`, p.fields]));
}

describe('station uploads', () => {
  it('parses the Ecowitt GW1000 body and the Wunderground wiki sample', () => {
    expect(parseUpload('ecowitt', new URLSearchParams(ECOWITT))).toEqual({
      time: Date.UTC(2019, 4, 28, 7, 33, 48) / 1000,
      outdoorF: 79.3, outdoorHumidity: 70, indoorF: 79.7, indoorHumidity: 76, relativeInHg: 29.719, absoluteInHg: 29.719,
      windDirection: 277, windMph: 0, gustMph: 0, solarWm2: 0, uv: 0,
      rain: { inches: 6.803, counter: 'totalrainin' }, // the longest-running counter sent
    });
    expect(parseUpload('wunderground', new URL(WU, 'http://x').searchParams)).toEqual({
      time: Date.UTC(2000, 0, 1, 10, 32, 35) / 1000,
      outdoorF: 70, outdoorHumidity: 90, relativeInHg: 29.1, windDirection: 230, windMph: 12, gustMph: 12,
    });
    expect(parseDateUtc('now')).toBeUndefined();
    expect(parseDateUtc('2024-4-10 12:4:2')).toBe(Date.UTC(2024, 3, 10, 12, 4, 2) / 1000);
    expect(() => parseUpload('ecowitt', new URLSearchParams('tempf=abc'))).toThrow('field "tempf": expected a number, found "abc"');
    expect(() => parseUpload('ecowitt', new URLSearchParams('humidity=140'))).toThrow(/field "humidity": expected 0-100 %/);
  });

  it('scripts/station.ts is always a receiver: --listen is STATION_LISTEN and --watch is implied', () => {
    expect(receiverArguments(['--listen', '0.0.0.0:8080', '-v'], {})).toEqual({ argv: ['--watch', '-v'], env: { STATION_LISTEN: '0.0.0.0:8080' } });
    expect(receiverArguments(['--help'], {}).argv).toEqual(['--help']);
  });
});

describe('station receiver', () => {
  const NOW = Date.UTC(2019, 4, 28, 7, 34, 0) / 1000;

  it('both protocols: exact records, minute samples and the hour, day and week means', async () => {
    const r = await receiver({}, NOW);
    expect((await post(r.url, ECOWITT)).status).toBe(200);
    const wu = await fetch(`${r.url}${WU}`);
    expect([wu.status, await wu.text()]).toEqual([200, 'success\n']);
    const run = await r.stop();
    expect(run.code, run.all).toBe(0);
    const dir = r.home.env.HOMEFLUX_DATA_DIR!;
    const t = Date.UTC(2019, 4, 28, 7, 33, 48) / 1000;
    const w = Date.UTC(2000, 0, 1, 10, 32, 35) / 1000;
    expect(await points(dir, 'home-minute')).toEqual({
      [`temperature/station@${t}`]: { temperature: 79.3 },
      [`humidity/station@${t}`]: { humidity: 70 },
      [`temperature/station_indoor@${t}`]: { temperature: 79.7 },
      [`humidity/station_indoor@${t}`]: { humidity: 76 },
      [`pressure/station@${t}`]: { relative: 29.719, absolute: 29.719 },
      [`wind/station@${t}`]: { speed: 0, gust: 0, direction: 277 },
      [`solar/station@${t}`]: { radiation: 0, uv: 0 },
      [`temperature/station@${w}`]: { temperature: 70 },
      [`humidity/station@${w}`]: { humidity: 90 },
      [`pressure/station@${w}`]: { relative: 29.1 },
      [`wind/station@${w}`]: { speed: 12, gust: 12, direction: 230 },
    });
    // One reading in its hour: the hour's mean is the reading, samples 1; the day and the week
    // (2019-05-27 is a Monday) the mean of that one hour.
    const hour = await points(dir, 'home-hour');
    expect(hour[`temperature/station@${Date.UTC(2019, 4, 28, 7) / 1000}`]).toEqual({ temperature: 79.3, samples: 1 });
    expect(hour[`humidity/station_indoor@${Date.UTC(2019, 4, 28, 7) / 1000}`]).toEqual({ humidity: 76, samples: 1 });
    expect((await points(dir, 'home-day'))[`temperature/station@${Date.UTC(2019, 4, 28) / 1000}`]).toEqual({ temperature: 79.3, hours: 1 });
    expect((await points(dir, 'home-week'))[`temperature/station@${Date.UTC(2019, 4, 27) / 1000}`]).toEqual({ temperature: 79.3, hours: 1 });
    // totalrainin's first reading is only the counter's base: no rain yet.
    expect(Object.keys(hour).some((k) => k.startsWith('precipitation'))).toBe(false);
  }, 30_000);

  it('HOMEFLUX_UNITS=metric converts °F, inHg and mph', async () => {
    const r = await receiver({ HOMEFLUX_UNITS: 'metric' }, NOW);
    expect((await post(r.url, ECOWITT)).status).toBe(200);
    expect((await r.stop()).code).toBe(0);
    const t = Date.UTC(2019, 4, 28, 7, 33, 48) / 1000;
    const got = await points(r.home.env.HOMEFLUX_DATA_DIR!, 'home-minute');
    const r3 = (v: number): number => Math.round(v * 1000) / 1000;
    expect(got[`temperature/station@${t}`]).toEqual({ temperature: r3(((79.3 - 32) * 5) / 9) }); // 26.278 °C
    expect(got[`pressure/station@${t}`]).toEqual({ relative: r3(29.719 * 33.8639), absolute: r3(29.719 * 33.8639) }); // hPa
  }, 30_000);

  it('rain from the daily counter across midnight: its reset counts in the hour after it', async () => {
    const r = await receiver({}, Date.UTC(2026, 6, 2, 0, 15) / 1000);
    const upload = (date: string, daily: string): Promise<Response> => post(r.url, `PASSKEY=${PASSKEY}&dateutc=${date}&dailyrainin=${daily}`);
    // 23:50 0.10 (base) → 23:55 0.25: +0.15 in the 23:00 hour; midnight reset → 00:05 0.02: +0.02,
    // → 00:10 0.05: +0.03, both in the 00:00 hour (0.05). Days 0.15 and 0.05; the week (Monday
    // 2026-06-29) 0.20 in.
    for (const [date, daily] of [['2026-07-01+23:50:00', '0.10'], ['2026-07-01+23:55:00', '0.25'], ['2026-07-02+00:05:00', '0.02'], ['2026-07-02+00:10:00', '0.05']] as const) {
      expect((await upload(date, daily)).status).toBe(200);
    }
    expect((await r.stop()).code).toBe(0);
    const rain = async (bucket: string): Promise<number[]> => (await readBucketFile(r.home.env.HOMEFLUX_DATA_DIR!, bucket)).map((l) => decodePoint(l, bucket)).filter((p) => p.measurement === 'precipitation').map((p) => p.fields.precipitation!);
    expect(await rain('home-hour')).toEqual([0.15, 0.05]);
    expect(await rain('home-day')).toEqual([0.15, 0.05]);
    expect(await rain('home-week')).toEqual([0.2]);
  }, 30_000);

  it('a wrong PASSKEY or malformed fields: 4xx, nothing written, no key in any output', async () => {
    const r = await receiver({}, NOW);
    const wrong = await post(r.url, ECOWITT.replace(PASSKEY, 'WRONGKEY-1234567890'));
    expect(wrong.status).toBe(403);
    const bad = await post(r.url, `PASSKEY=${PASSKEY}&tempf=warm&humidity=70`);
    expect([bad.status, await bad.text()]).toEqual([400, 'field "tempf": expected a number, found "warm"\n']);
    const wuWrong = await fetch(`${r.url}${WU.replace('PASSWORD=XXXXXX', 'PASSWORD=guess')}`);
    expect(wuWrong.status).toBe(401);
    expect((await fetch(`${r.url}/elsewhere`)).status).toBe(404);
    const run = await r.stop();
    expect(run.code).toBe(0);
    expect(run.all).toMatch(/station: refused upload\(s\) since the last sample: .*1 credentials|2 credentials/);
    expect(run.all).toMatch(/bad field \(first: field "tempf": expected a number, found "warm"\)/);
    expect(await readBucketFile(r.home.env.HOMEFLUX_DATA_DIR!, 'home-minute')).toEqual([]);
    for (const secret of [PASSKEY, 'WRONGKEY-1234567890', 'XXXXXX', 'guess']) expect(run.all).not.toContain(secret);
  }, 30_000);

  it('a flood from one client stays bounded: at most STATION_MAX_PENDING readings kept, the rest counted', async () => {
    const r = await receiver({ STATION_MAX_PENDING: '50' }, Date.UTC(2026, 6, 2, 12) / 1000);
    // 400 uploads a second apart in time (distinct readings), sent 20 at a time.
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const s = batch * 20 + i;
          const date = `2026-07-02+11:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
          return post(r.url, `PASSKEY=${PASSKEY}&dateutc=${date}&tempf=70`).then((res) => expect(res.status).toBe(200));
        }),
      );
    }
    const run = await r.stop();
    // A service stopped on purpose exits 0 when its last write succeeded; the loss is an error line.
    expect(run.code).toBe(0);
    expect(run.all, run.all).toMatch(/error: station: 350 reading\(s\) dropped: more than STATION_MAX_PENDING=50 arrived between two samples/);
    expect(await readBucketFile(r.home.env.HOMEFLUX_DATA_DIR!, 'home-minute')).toHaveLength(50);
  }, 60_000);
});
