/**
 * Fuzz: the Opower payload mappings (src/agents/opower/reads.ts, weather.ts) fed random JSON and mutated
 * real payloads of the fake portal (testing/fakes/opower-portal.ts) never throw anything but a
 * SourceDataError, and every record they return is valid.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MapContext, type Mapped, parseAccounts, parseInstant } from '../../src/agents/opower/parse.ts';
import { billRecords, costRecords, usageRecords } from '../../src/agents/opower/reads.ts';
import { weatherRecords } from '../../src/agents/opower/weather.ts';
import { SourceDataError } from '../../src/errors.ts';
import { FAKE_ACCOUNT, type FakeAccount, type OpowerPortal, startOpowerPortal } from '../../testing/fakes/opower-portal.ts';
import { expectTyped, expectValid, mutatedJson, RUNS } from './fuzz-helpers.ts';

const API = '/ei/edge/apis';
const ZONE = 'America/Los_Angeles';
const GAS: FakeAccount = { uuid: '0a9c3e55-1d2b-4f6e-8a7c-5b4d3e2f1a00', meterType: 'GAS', readResolution: 'DAY', components: true };
const WATER: FakeAccount = { uuid: '7e1f9b3a-2c4d-4e5f-9a8b-1c2d3e4f5a6b', meterType: 'WATER', readResolution: 'DAY' };

let portal: OpowerPortal;
// Real payloads as the fake portal serves them, around the 2025-11-02 fall-back day.
const usage: unknown[] = [];
const cost: unknown[] = [];
const bills: unknown[] = [];
const weather: unknown[] = [];
const customers: unknown[] = [];

beforeAll(async () => {
  portal = await startOpowerPortal({ accounts: [FAKE_ACCOUNT, GAS, WATER] });
  const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) homeflux-fuzz', 'content-type': 'application/json' };
  const signin = await fetch(`${portal.url}${API}/user-account-control-v1/cws/v1/gwp/account/signin`, { method: 'POST', headers, body: JSON.stringify({ username: 'homeowner@example.com', password: 'correct-horse-battery' }) });
  expect(signin.status).toBe(204);
  const cookie = signin.headers.getSetCookie().map((c) => c.split(';')[0]!).join('; ');
  const get = async (p: string): Promise<unknown> => {
    const res = await fetch(`${portal.url}${API}${p}`, { headers: { ...headers, cookie } });
    expect(res.status, p).toBe(200);
    return res.json();
  };
  customers.push(await get('/multi-account-v1/cws/gwp/customers?offset=0&batchSize=100'));
  for (const account of [FAKE_ACCOUNT, GAS, WATER]) {
    for (const aggregate of account === FAKE_ACCOUNT ? ['hour', 'day'] : ['day']) {
      usage.push(await get(`/DataBrowser-v1/cws/utilities/gwp/utilityAccounts/${account.uuid}/reads?aggregateType=${aggregate}&startDate=2025-11-01&endDate=2025-11-02`));
    }
  }
  cost.push(await get(`/DataBrowser-v1/cws/cost/utilityAccount/${FAKE_ACCOUNT.uuid}?aggregateType=hour&startDate=2025-11-01T00:00:00-07:00&endDate=2025-11-03T00:00:00-08:00`));
  cost.push(await get(`/DataBrowser-v1/cws/cost/utilityAccount/${FAKE_ACCOUNT.uuid}?aggregateType=day&startDate=2025-10-01T00:00:00-07:00&endDate=2025-11-03T00:00:00-08:00`));
  cost.push(await get(`/DataBrowser-v1/cws/cost/utilityAccount/${GAS.uuid}?aggregateType=day&startDate=2025-10-01T00:00:00-07:00&endDate=2025-11-03T00:00:00-08:00`));
  bills.push(await get(`/DataBrowser-v1/cws/cost/utilityAccount/${GAS.uuid}?aggregateType=bill`));
  bills.push(await get(`/DataBrowser-v1/cws/utilities/gwp/utilityAccounts/${FAKE_ACCOUNT.uuid}/reads?aggregateType=bill`));
  weather.push(await get('/DataBrowser-v1/cws/weather/hourly?useCelsius=false&startDate=2025-11-01T00:00:00-07:00&endDate=2025-11-03T00:00:00-08:00'));
  weather.push(await get('/DataBrowser-v1/cws/weather/daily?useCelsius=false&startDate=2025-10-01&endDate=2025-11-02'));
});

afterAll(async () => {
  await portal?.stop();
});

const ctx = (timescale: 'hour' | 'day'): MapContext => ({
  utility: 'gwp',
  timezone: ZONE,
  timescale,
  location: 'gwp_meter',
  tags: { account: '100000' },
  // Wide: mutated times far from the fixture's days must still be mapped (and validated).
  window: { start: -1e13, end: 1e13 },
  path: '/DataBrowser-v1/cws/…/reads',
});

/** The property: records all valid, problems all SourceDataErrors; or a SourceDataError thrown. */
function check(map: () => Mapped): void {
  let mapped: Mapped;
  try {
    mapped = map();
  } catch (error) {
    expectTyped(error, [SourceDataError]);
    return;
  }
  expectValid(mapped.records, 'opower');
  for (const problem of mapped.problems) expect(problem).toBeInstanceOf(SourceDataError);
}

const meterType = fc.oneof(fc.constantFrom('ELEC', 'GAS', 'WATER', 'elec', ''), fc.string({ maxLength: 6 }));
const units = fc.constantFrom('imperial' as const, 'metric' as const);
const randomJson = fc.oneof(fc.jsonValue(), fc.anything(), fc.json().map((t) => JSON.parse(t) as unknown));

describe('opower parsers under random and mutated payloads', () => {
  it('the real payloads map to valid records (the baseline the mutations start from)', () => {
    const typeOf = (payload: unknown): string => ({ KWH: 'ELEC', CCF: 'GAS' })[(payload as { units: { consumption: string } }).units.consumption] ?? 'WATER';
    for (const payload of usage) check(() => usageRecords(payload, typeOf(payload), ctx('hour')));
    expect(usageRecords(usage[0], 'ELEC', ctx('hour')).records.length).toBeGreaterThan(24);
    expect(costRecords(cost[0], 'ELEC', ctx('hour')).records.length).toBeGreaterThan(24);
    expect(costRecords(cost[2], 'GAS', ctx('day')).records.filter((r) => r.measurement === 'cost_component').length).toBeGreaterThan(30);
    expect(billRecords(bills[0], 'GAS', ctx('day')).records.length + billRecords(bills[1], 'ELEC', ctx('day')).records.length).toBeGreaterThan(20);
    expect(weatherRecords(weather[0], 'imperial', ctx('hour')).records.length).toBeGreaterThan(24);
    expect(parseAccounts(customers[0], '/customers')).toHaveLength(3);
  });

  it('usage reads: mutated real payloads', () => {
    fc.assert(
      fc.property(mutatedJson(usage), meterType, (payload, type) => check(() => usageRecords(payload, type, ctx('hour')))),
      { numRuns: RUNS },
    );
  });

  it('cost reads: mutated real payloads', () => {
    fc.assert(
      fc.property(mutatedJson(cost), meterType, (payload, type) => check(() => costRecords(payload, type, ctx('day')))),
      { numRuns: RUNS },
    );
  });

  it('bill reads: mutated real payloads of both endpoints', () => {
    fc.assert(
      fc.property(mutatedJson(bills), meterType, (payload, type) => check(() => billRecords(payload, type, ctx('day')))),
      { numRuns: RUNS },
    );
  });

  it('weather reads: mutated real payloads, both unit systems', () => {
    fc.assert(
      fc.property(mutatedJson(weather), units, (payload, u) => check(() => weatherRecords(payload, u, ctx('day')))),
      { numRuns: RUNS },
    );
  });

  it('customers: mutated real payloads give accounts or a SourceDataError', () => {
    fc.assert(
      fc.property(mutatedJson(customers), (payload) => {
        try {
          for (const account of parseAccounts(payload, '/customers')) {
            expect(typeof account.uuid).toBe('string');
            expect(account.uuid.length).toBeGreaterThan(0);
            expect(typeof account.meterType).toBe('string');
          }
        } catch (error) {
          expectTyped(error, [SourceDataError]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('every mapping: random JSON values', () => {
    fc.assert(
      fc.property(randomJson, meterType, units, (payload, type, u) => {
        check(() => usageRecords(payload, type, ctx('hour')));
        check(() => costRecords(payload, type, ctx('hour')));
        check(() => billRecords(payload, type, ctx('day')));
        check(() => weatherRecords(payload, u, ctx('day')));
        try {
          parseAccounts(payload, '/customers');
        } catch (error) {
          expectTyped(error, [SourceDataError]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('parseInstant: any string gives whole-second safe integers or undefined, never throws', () => {
    const isoLike = fc
      .tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.constantFrom('', ':00', ':59', ':99', '.123'), fc.constantFrom('Z', '-07:00', '+0530', '+99:99', '', '-08'))
      .map(([y, mo, d, h, mi, s, z]) => `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}${s}${z}`);
    const dateOnly = fc.tuple(fc.integer({ min: -300000, max: 300000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 })).map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
    fc.assert(
      fc.property(fc.oneof(isoLike, dateOnly, fc.string(), fc.string({ unit: 'binary' })), fc.constantFrom(ZONE, 'UTC', 'Australia/Adelaide', 'Not/AZone'), (text, zone) => {
        const t = parseInstant(text, zone);
        if (t !== undefined) expect(Number.isSafeInteger(t), `${text} → ${t}`).toBe(true);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
