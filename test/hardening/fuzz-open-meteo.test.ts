/**
 * Fuzz: Open-Meteo bodies (src/agents/weather/parse.ts) — random JSON and mutated real
 * responses from test/fixtures/open-meteo/ — give valid records or a SourceDataError.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorReason, HOURLY_VARIABLES, hourlyRecords, parseHourly, type ResponseOrigin } from '../../src/agents/weather/parse.ts';
import { SourceDataError } from '../../src/errors.ts';
import { expectTyped, expectValid, fixture, mutatedJson, RUNS, weirdValue } from './fuzz-helpers.ts';

const dir = path.join(import.meta.dirname, '..', 'fixtures', 'open-meteo');
const bodies = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fixture('open-meteo', f)) as unknown);
const origin: ResponseOrigin = { api: 'forecast', path: '/v1/forecast' };

/** Parse and map as the agent does; both steps may only throw SourceDataError. */
function check(body: unknown, units: 'imperial' | 'metric', variables: readonly (typeof HOURLY_VARIABLES)[number][]): void {
  try {
    const hourly = parseHourly(body, origin, variables);
    expect(hourly.times.every((t) => Number.isSafeInteger(t))).toBe(true);
    expectValid(hourlyRecords(hourly, { source: 'homeflux.open_meteo', location: 'home', units, origin, keep: () => true }), 'weather');
  } catch (error) {
    expectTyped(error, [SourceDataError]);
  }
  // The error-body probe runs on every body the API answers.
  const reason = errorReason(body);
  if (reason !== undefined) expect(typeof reason).toBe('string');
}

const units = fc.constantFrom('imperial' as const, 'metric' as const);
const variables = fc.subarray([...HOURLY_VARIABLES], { minLength: 1 });

describe('open-meteo parser under random and mutated payloads', () => {
  it('the real fixtures parse, and at least one yields records', () => {
    let records = 0;
    for (const body of bodies) {
      try {
        const hourly = parseHourly(body, origin, ['temperature_2m']);
        records += hourlyRecords(hourly, { source: 's', location: 'home', units: 'metric', origin, keep: () => true }).length;
      } catch (error) {
        expectTyped(error, [SourceDataError]); // some fixtures lack hourly data on purpose
      }
    }
    expect(records).toBeGreaterThan(24);
  });

  it('mutated real responses', () => {
    fc.assert(
      fc.property(mutatedJson(bodies), units, variables, (body, u, vars) => check(body, u, vars)),
      { numRuns: RUNS * 2 },
    );
  });

  it('real responses with hourly cells and units replaced by odd values', () => {
    // Most nodes of a body are hourly cells; aim at them (and at the units) directly.
    const withHourly = bodies.filter((b) => JSON.stringify(b).includes('"temperature_2m":['));
    // Mostly numbers (a wrong type anywhere fails the whole body, hiding what the rest would do).
    const number = fc.oneof(fc.constantFrom(1e308, -1e308, 1e303, Number.MAX_VALUE, -0, 0), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
    const cell = fc.record({ column: fc.oneof({ weight: 1, arbitrary: fc.constant('time') }, { weight: 6, arbitrary: fc.constantFrom(...HOURLY_VARIABLES) }), index: fc.nat(), value: fc.oneof({ weight: 3, arbitrary: number }, { weight: 1, arbitrary: weirdValue }) });
    const unit = fc.record({ variable: fc.constantFrom(...HOURLY_VARIABLES), value: fc.oneof(fc.constantFrom('°C', '°F', 'mm', 'inch', '%', '', 'constructor', 'toString', '__proto__'), fc.string({ maxLength: 4 })) });
    fc.assert(
      fc.property(fc.constantFrom(...withHourly), fc.array(cell, { minLength: 1, maxLength: 2 }), fc.option(unit), units, (original, cells, u, system) => {
        const body = structuredClone(original) as { hourly: Record<string, unknown[]>; hourly_units: Record<string, unknown> };
        for (const c of cells) {
          const column = body.hourly[c.column];
          if (Array.isArray(column) && column.length > 0) column[c.index % column.length] = c.value;
        }
        if (u) body.hourly_units[u.variable] = u.value;
        check(body, system, HOURLY_VARIABLES);
      }),
      { numRuns: RUNS },
    );
  });

  it('random JSON values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), units, (body, u) => check(body, u, HOURLY_VARIABLES)),
      { numRuns: RUNS },
    );
  });

  it('a unit named after an Object.prototype member is refused, not taken for °F', () => {
    const body = structuredClone(bodies.find((b) => JSON.stringify(b).includes('temperature_2m":['))) as { hourly_units: Record<string, string> };
    body.hourly_units.temperature_2m = 'constructor';
    expect(() => hourlyRecords(parseHourly(body, origin, ['temperature_2m']), { source: 's', location: 'home', units: 'metric', origin, keep: () => true })).toThrow(SourceDataError);
  });
});
