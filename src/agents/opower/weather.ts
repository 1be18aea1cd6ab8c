/**
 * The portal's outdoor temperature (`DataBrowser-v1/cws/weather/hourly|daily`, GWP; PROTOCOL.md
 * "Portal weather") → `temperature` records.
 *
 * Daily reads are dated `2021-09-01T00:00:00.000Z` but mean local midnight of that date: the
 * original homeflux rewrites `.000Z` to the local offset. Read as UTC they would land 7–8 hours
 * early, on the previous local day in California; so a daily read is placed at the utility's
 * local midnight of the date it names, whatever offset it carries. Hourly reads carry their
 * local offset and are taken as they are.
 */
import { z } from '../../deps.ts';
import { excerpt, SourceDataError } from '../../errors.ts';
import { temperatureRecord, type Units } from '../../records.ts';
import { base, clean, instantOf, isObj, localMidnightOf, type MapContext, type Mapped, mapReads, numOrNull } from './parse.ts';

/** One weather read: `date` and the mean temperature (°F with `useCelsius=false`). */
export const weatherReadSchema = z.object({ date: z.string(), meanTemperature: z.number().nullable() });

const fitsWeather = (r: unknown): boolean => isObj(r) && typeof r.date === 'string' && numOrNull(r.meanTemperature);

/** Weather reads → `temperature` in the configured units; `ctx.timescale` says hourly or daily. */
export function weatherRecords(payload: unknown, units: Units, ctx: MapContext): Mapped {
  const reads = isObj(payload) && Array.isArray(payload.reads) ? (payload.reads as unknown[]) : undefined;
  if (reads === undefined) throw new SourceDataError(`${ctx.path}: expected an object with a "reads" array`, excerpt(payload));
  const daily = ctx.timescale === 'day';
  return mapReads(reads, weatherReadSchema, fitsWeather, ctx, (read) => {
    if (read.meanTemperature === null) return undefined;
    const time = daily ? localMidnightOf(read.date, ctx.timezone) : instantOf(read.date, ctx);
    if (time === undefined) throw new Error(`bad date ${read.date}`);
    const record = temperatureRecord(base(ctx, time, ctx.timescale), { value: read.meanTemperature, unit: 'F', units });
    record.fields.temperature = clean(record.fields.temperature as number);
    return { records: [record] };
  });
}
