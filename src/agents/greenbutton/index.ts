/**
 * `greenbutton`: utility export files (Green Button ESPI XML, utility CSV) → records.
 *
 * A file import is not a polling source: its time window is the file's own span. Without
 * `--since/--until` every reading of every file is written; with them, readings whose start
 * lies outside are left out. Hour/day/week sums are computed here (not by the pipeline) so
 * that only periods the files cover completely get a sum.
 *
 * Each file is parsed completely before anything of it is returned: a malformed file is
 * reported (file, line, element) and contributes nothing, while the other files still import.
 */
import path from 'node:path';
import { type Config, type Env, readEnv } from '../../config.ts';
import { ConfigError, SourceDataError } from '../../errors.ts';
import type { DataRecord } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { parseGreenButtonFile } from './parse.ts';
import { type Series, seriesToRecords } from './series.ts';
import { type GreenbuttonSettings, greenbuttonSettings } from './settings.ts';

export { parseGreenButtonFile } from './parse.ts';
export { type GreenbuttonSettings, greenbuttonSettings } from './settings.ts';

const SOURCE = 'homeflux.greenbutton';

/** The span used when neither `--since` nor `--until` is given: everything a file can hold. */
export const ALL_TIME: TimeWindow = { start: 0, end: 4_102_444_800 }; // 2100-01-01

/** Build the Green Button agent. */
export function createGreenbuttonAgent(settings: GreenbuttonSettings, config: Config): Agent {
  return {
    name: 'greenbutton',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      const series: Series[] = [];
      for (const file of settings.files) {
        if (context.signal.aborted) break;
        try {
          const parsed = await parseGreenButtonFile(file, { timezone: config.timezone });
          for (const note of parsed.notes) context.log.warn(note);
          const readings = parsed.series.reduce((n, s) => n + s.readings.length, 0);
          context.log.debug(`${path.basename(file)}: ${readings} reading(s) in ${parsed.series.length} series`);
          if (readings === 0) context.problem(new SourceDataError(`${path.basename(file)}: nothing to import (no interval readings)`));
          series.push(...parsed.series);
        } catch (error) {
          context.problem(error instanceof Error ? error : new Error(String(error)));
        }
      }
      return seriesToRecords(series, { source: SOURCE, location: settings.location, rules: { timezone: config.timezone, weekStart: config.weekStart }, window });
    },
  };
}

/** Split `GREENBUTTON_FILES` on the platform path delimiter or commas. */
function splitFiles(value: string | undefined): string[] {
  return (value ?? '')
    .split(new RegExp(`[,${path.delimiter === ';' ? ';' : ':'}]`))
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

/**
 * The module; `files` (tests, benchmarks) stand in for the command line. The files are the
 * command line's positionals, else `GREENBUTTON_FILES`.
 */
export function greenbuttonModule(files: readonly string[] = []): AgentModule<GreenbuttonSettings> {
  return {
    name: 'greenbutton',
    description: 'Import Green Button files (ESPI XML or utility CSV exports) of energy, gas, water and cost.',
    settings: greenbuttonSettings,
    positionals: { usage: '<file…>', help: ['<file…>         Green Button ESPI XML or utility CSV files (or GREENBUTTON_FILES)'] },
    fromEnv(env: Env, _config, positionals = []): GreenbuttonSettings {
      const given = files.length > 0 ? files : positionals;
      const list = given.length > 0 ? [...given] : splitFiles(env.GREENBUTTON_FILES);
      if (list.length === 0) throw new ConfigError('no files given: pass Green Button file names as arguments or set GREENBUTTON_FILES', 'GREENBUTTON_FILES');
      const { location } = readEnv(greenbuttonSettings.pick({ location: true }), env, { location: 'GREENBUTTON_LOCATION' });
      return { files: list, location };
    },
    create: createGreenbuttonAgent,
    limits: (): AgentLimits => ({
      // One call sees every file, so sums can span files and each file is parsed once.
      maxWindow: { maxSeconds: Number.MAX_SAFE_INTEGER },
      lookback: ALL_TIME.end - ALL_TIME.start,
      rollups: [],
      defaultWindow: () => ALL_TIME,
    }),
  };
}

/** The module reading its files from the command line or `GREENBUTTON_FILES`. */
export const greenbutton: AgentModule<GreenbuttonSettings> = greenbuttonModule();
