/**
 * The Opower mappings over the shape fixtures (test/fixtures/opower, copied from
 * ../shared/fixtures/opower: field names, nesting and formats as the public clients read them),
 * Telegraf-style: each `cases/<case>/case.json` names a fixture and a mapping, and
 * `expected.out` holds the line protocol worked out by hand from the fixture (times: the
 * fixture's local times converted to Unix seconds; kWh × 1000 = Wh).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forecastRecords } from '../../src/agents/opower/forecast.ts';
import { type MapContext, parseCustomersPage } from '../../src/agents/opower/parse.ts';
import { billRecords, costRecords, usageRecords } from '../../src/agents/opower/reads.ts';
import { weatherRecords } from '../../src/agents/opower/weather.ts';
import { type DataRecord, type Timescale, validateRecord } from '../../src/records.ts';
import { toLineProtocol } from '../../src/lineprotocol.ts';

const DIR = join(import.meta.dirname, '../fixtures/opower');
const CASES = readdirSync(join(DIR, 'cases')).sort();

interface Case {
  fixture: string;
  map: 'usage' | 'cost' | 'bill' | 'weather' | 'forecast';
  meterType?: string;
  account?: string;
  timescale: Timescale;
  why: string;
}

function run(c: Case): DataRecord[] {
  const payload = JSON.parse(readFileSync(join(DIR, c.fixture), 'utf8')) as unknown;
  const ctx: MapContext = { utility: 'gwp', timezone: 'America/Los_Angeles', timescale: c.timescale, location: c.map === 'weather' ? 'gwp' : 'gwp_meter', window: { start: 0, end: 4e9 }, path: `/fixture/${c.fixture}` };
  switch (c.map) {
    case 'usage':
      return usageRecords(payload, c.meterType!, ctx).records;
    case 'cost':
      return costRecords(payload, c.meterType!, ctx).records;
    case 'bill':
      return billRecords(payload, c.meterType!, ctx).records;
    case 'weather':
      return weatherRecords(payload, 'imperial', ctx).records;
    case 'forecast': {
      const account = { uuid: c.account!, meterType: c.meterType! };
      return forecastRecords(payload, [account], () => ({ location: 'gwp_meter', tags: {} }), ctx);
    }
  }
}

describe('opower mappings over the shape fixtures', () => {
  it.each(CASES)('%s', (name) => {
    const c = JSON.parse(readFileSync(join(DIR, 'cases', name, 'case.json'), 'utf8')) as Case;
    const expected = readFileSync(join(DIR, 'cases', name, 'expected.out'), 'utf8').split('\n').filter((l) => l !== '');
    const records = run(c);
    for (const r of records) validateRecord(r, 'opower');
    expect(records.map(toLineProtocol).sort(), c.why).toEqual(expected.sort());
  });

  it('customers.json: every account carries its customer uuid (sent as Opower-Selected-Entities)', () => {
    const page = parseCustomersPage(JSON.parse(readFileSync(join(DIR, 'customers.json'), 'utf8')), '/customers');
    expect(page.total).toBe(1);
    expect(page.accounts.map((a) => [a.uuid, a.meterType, a.readResolution, a.customerUuid])).toEqual([
      ['22222222-2222-4222-8222-000000000002', 'ELEC', 'HOUR', '11111111-1111-4111-8111-000000000001'],
      ['22222222-2222-4222-8222-000000000004', 'WATER', 'DAY', '11111111-1111-4111-8111-000000000001'],
    ]);
  });

  it('a gas or water payload without a unit is refused, not guessed', () => {
    const payload = { reads: [{ startTime: '2026-07-01T00:00:00.000-07:00', endTime: '2026-07-02T00:00:00.000-07:00', consumption: { value: 3.2, type: 'ACTUAL' } }] };
    const ctx: MapContext = { utility: 'gwp', timezone: 'America/Los_Angeles', timescale: 'day', location: 'gwp_meter', window: { start: 0, end: 4e9 }, path: '/reads' };
    expect(() => usageRecords(payload, 'GAS', ctx)).toThrow(/names no unit .* GAS meter; expected e\.g\. CCF, THERM or GAL/);
    // Electricity alone may be assumed to be in kWh: 3.2 kWh = 3200 Wh.
    expect(usageRecords(payload, 'ELEC', ctx).records[0]!.fields.power_usage).toBe(3200);
  });
});
