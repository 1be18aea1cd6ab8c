import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.ts';
import { alignWindow, chunkWindow, localDate, localIso, nextPeriodStart, parseTimeArg, periodStart, periods } from '../src/window.ts';

const at = (iso: string): number => Date.parse(iso) / 1000;
const hours = (w: { start: number; end: number }): number => (w.end - w.start) / 3600;

describe('local days', () => {
  it.each([
    ['America/Los_Angeles', '2025-11-02', 25, '2025-11-02T07:00:00Z'],
    ['America/Los_Angeles', '2026-03-08', 23, '2026-03-08T08:00:00Z'],
    ['America/Los_Angeles', '2025-11-03', 24, '2025-11-03T08:00:00Z'],
    ['Australia/Sydney', '2025-10-05', 23, '2025-10-04T14:00:00Z'],
    ['Australia/Sydney', '2026-04-05', 25, '2026-04-04T13:00:00Z'],
    ['Asia/Kolkata', '2025-11-02', 24, '2025-11-01T18:30:00Z'],
    ['Asia/Tokyo', '2026-03-08', 24, '2026-03-07T15:00:00Z'],
  ])('%s %s has %i hours and starts at %s', (timezone, date, length, startIso) => {
    const rules = { timezone, weekStart: 'monday' as const };
    const [day] = periods({ start: at(startIso) + 3600, end: at(startIso) + 7200 }, 'day', rules);
    expect(day!.start).toBe(at(startIso));
    expect(hours(day!)).toBe(length);
    expect(localDate(day!.start, timezone)).toBe(date);
  });

  it('gives the two 01:00 hours of the fall-back day distinct starts', () => {
    const rules = { timezone: 'America/Los_Angeles', weekStart: 'monday' as const };
    const day = periods({ start: at('2025-11-02T12:00:00Z'), end: at('2025-11-02T12:00:01Z') }, 'day', rules)[0]!;
    const hourStarts = periods(day, 'hour', rules).map((h) => localIso(h.start, rules.timezone));
    expect(hourStarts).toHaveLength(25);
    expect(hourStarts.slice(0, 4)).toEqual(['2025-11-02T00:00:00-07:00', '2025-11-02T01:00:00-07:00', '2025-11-02T01:00:00-08:00', '2025-11-02T02:00:00-08:00']);
  });

  it('starts hours at :30 UTC in a half-hour zone', () => {
    expect(periodStart(at('2025-06-01T10:00:00Z'), 'hour', { timezone: 'Asia/Kolkata', weekStart: 'monday' })).toBe(at('2025-06-01T09:30:00Z'));
  });
});

describe('weeks', () => {
  it.each([
    ['monday', '2025-10-27T07:00:00Z'],
    ['sunday', '2025-11-02T07:00:00Z'],
  ] as const)('week starting %s containing 2025-11-02 12:00 local starts at %s', (weekStart, iso) => {
    const rules = { timezone: 'America/Los_Angeles', weekStart };
    expect(periodStart(at('2025-11-02T20:00:00Z'), 'week', rules)).toBe(at(iso));
  });

  it('the week containing the fall-back day is 169 hours long', () => {
    const rules = { timezone: 'America/Los_Angeles', weekStart: 'monday' as const };
    const [week] = periods({ start: at('2025-11-01T00:00:00Z'), end: at('2025-11-01T00:00:01Z') }, 'week', rules);
    expect(hours(week!)).toBe(169);
  });
});

describe('windows', () => {
  const rules = { timezone: 'America/Los_Angeles', weekStart: 'monday' as const };

  it('aligns outwards to whole local weeks', () => {
    const w = alignWindow({ start: at('2025-11-05T12:00:00Z'), end: at('2025-11-06T12:00:00Z') }, 'week', rules);
    expect(localIso(w.start, rules.timezone)).toBe('2025-11-03T00:00:00-08:00');
    expect(localIso(w.end, rules.timezone)).toBe('2025-11-10T00:00:00-08:00');
  });

  it('chunks by whole local days with the last chunk cut at the window end', () => {
    const window = { start: at('2025-10-01T07:00:00Z'), end: at('2025-12-01T08:00:00Z') };
    const chunks = chunkWindow(window, { maxDays: 26 }, rules);
    expect(chunks.map((c) => localDate(c.start, rules.timezone))).toEqual(['2025-10-01', '2025-10-27', '2025-11-22']);
    expect(chunks[0]!.end).toBe(chunks[1]!.start);
    expect(chunks.at(-1)!.end).toBe(window.end);
    // The chunk over the fall-back day is 26 local days = 26×24+1 hours.
    expect(hours(chunks[1]!)).toBe(26 * 24 + 1);
  });

  it('parses durations, local dates and instants', () => {
    const now = at('2025-11-04T12:00:00Z');
    const opts = { now, timezone: rules.timezone, name: '--since' };
    expect(parseTimeArg('5d', opts)).toBe(now - 5 * 86400);
    expect(parseTimeArg('36h', opts)).toBe(now - 36 * 3600);
    expect(parseTimeArg('2025-10-28', opts)).toBe(at('2025-10-28T07:00:00Z'));
    expect(parseTimeArg('2025-11-02T01:30', opts)).toBe(at('2025-11-02T08:30:00Z'));
    expect(parseTimeArg('2025-11-02T01:30:00Z', opts)).toBe(at('2025-11-02T01:30:00Z'));
    expect(() => parseTimeArg('last tuesday', opts)).toThrow(ConfigError);
    expect(() => parseTimeArg('last tuesday', opts)).toThrow(/--since: expected a date/);
  });
});

describe('fast local periods agree with luxon', () => {
  it.each(['America/Los_Angeles', 'Australia/Sydney', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Chatham', 'Europe/London', 'UTC'])('in %s, for any instant and both week starts', async (timezone) => {
    const fc = (await import('fast-check')).default;
    const { DateTime } = await import('luxon');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2_200_000_000 }), fc.constantFrom('monday' as const, 'sunday' as const), (t, weekStart) => {
        const rules = { timezone, weekStart };
        const dt = DateTime.fromSeconds(t, { zone: timezone });
        const day = dt.startOf('day');
        const back = (day.weekday - (weekStart === 'monday' ? 1 : 7) + 7) % 7;
        // startOf('day') again: minus() keeps the wall time, which is 00:15 when a day began at 00:15.
        const week = day.minus({ days: back }).startOf('day');
        expect(periodStart(t, 'hour', rules)).toBe(Math.floor(dt.startOf('hour').toSeconds()));
        expect(periodStart(t, 'day', rules)).toBe(day.toSeconds());
        expect(periodStart(t, 'week', rules)).toBe(week.toSeconds());
        expect(nextPeriodStart(day.toSeconds(), 'day', rules)).toBe(day.plus({ days: 1 }).startOf('day').toSeconds());
        expect(nextPeriodStart(week.toSeconds(), 'week', rules)).toBe(week.plus({ weeks: 1 }).startOf('day').toSeconds());
      }),
      { numRuns: Number(process.env.HOMEFLUX_FUZZ_RUNS ?? 2000) },
    );
  });
});
