/**
 * `nut`: UPS power through the NUT network protocol (upsd, port 3493).
 *
 * Each collect takes one sample of every configured UPS at the window's end (now, unless
 * pinned): an `ups` record (minute bucket) with load, watts, battery charge, input voltage,
 * status and how the watts were obtained; the `power` energy of the current hour (hour
 * bucket) = mean watts of that hour's samples × 1 h, with the sample count; and the `power`
 * energy of the current local day and week (day and week buckets) = the sum of their hours,
 * with the number of hours that had samples. The hour's samples and the recent hours' energy
 * are kept in a state file between runs (see nut/state.ts), so a cron job sampling once a
 * minute rewrites an ever more complete hour, day and week.
 *
 * Scripts: `scripts/nut.ts` (one sample, or `--watch`); see src/agents/nut/README.md.
 */
import type { Config } from '../../config.ts';
import { type DataRecord, upsRecord } from '../../records.ts';
import type { LocalRules, TimeWindow } from '../../window.ts';
import { type Agent, type AgentModule, type CollectContext, samplingLimits } from '../agent.ts';
import { energyRecords } from './energy.ts';
import { sampleHost, type UpsSample } from './sample.ts';
import { nutFromEnv, type NutSettings, nutSettings, stateFilePath } from './settings.ts';
import { NutState, seriesId } from './state.ts';

export { nutSettings, type NutSettings } from './settings.ts';

/** `source` tag of every nut record. */
export const NUT_SOURCE = 'homeflux.nut';

/** The records of one sample: the `ups` point and the power energy of the hours, days and weeks it touches. */
function sampleRecords(sample: UpsSample, time: number, state: NutState, rules: LocalRules): DataRecord[] {
  const { location, ups, reading } = sample;
  const { power_method, ...fields } = reading;
  const base = { source: NUT_SOURCE, location, tags: { ups } };
  const records = [upsRecord({ ...base, time, timescale: 'minute', fields: power_method === undefined ? {} : { power_method } }, fields)];
  if (reading.power_w === undefined) return records;
  const key = seriesId(location, ups);
  state.add(key, time, reading.power_w);
  // The previous hour (and its day and week) too: its final mean is rewritten once more
  // (harmless, see state.ts).
  records.push(...energyRecords(state, key, { series: base, rules }));
  return records;
}

/** Build the nut agent. */
export function createNutAgent(settings: NutSettings, config: Config): Agent {
  const rules: LocalRules = { timezone: config.timezone, weekStart: config.weekStart };
  const stateFile = stateFilePath(settings);
  return {
    name: 'nut',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      context.log.mask(settings.password);
      const time = window.end;
      const results = await Promise.all(settings.hosts.map((host) => sampleHost(host, { settings, signal: context.signal })));
      for (const result of results) for (const error of result.errors) context.problem(error);
      const samples = results.flatMap((result) => result.samples);
      if (samples.length === 0) return [];

      const state = await NutState.load(stateFile);
      if (state.warning) context.log.warn(`nut: ${state.warning}`);
      state.prune(time, rules);
      const records: DataRecord[] = [];
      for (const sample of samples) {
        if (sample.reading.power_w === undefined) {
          context.log.warn(
            `nut: ${sample.location}: UPS "${sample.ups}" reports no watts (none of ups.realpower, output.realpower, or ups.load with a nominal power); writing its other values`,
          );
        }
        records.push(...sampleRecords(sample, time, state, rules));
      }
      // A dry run changes nothing on disk, the hour's samples included.
      if (!context.dryRun) await state.save(stateFile);
      return records;
    },
  };
}

/** The nut agent module. */
export const nut: AgentModule<NutSettings> = {
  name: 'nut',
  description: 'UPS load, watts and hourly, daily and weekly energy from NUT servers (upsd); one sample per run, or --watch.',
  requires: [['NUT_HOSTS']],
  settings: nutSettings,
  fromEnv: (env) => nutFromEnv(env),
  create: (settings, config) => createNutAgent(settings, config),
  // One sample of now per run, or `--watch` (src/run/watch.ts) for a systemd service.
  sampling: { defaultIntervalSeconds: 60 },
  // Hour, day and week energy come from the state file (nut/energy.ts).
  limits: samplingLimits,
};
