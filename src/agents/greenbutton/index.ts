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
import { open } from 'node:fs/promises';
import path from 'node:path';
import { z } from '../../deps.ts';
import { type Config, type Env, readEnv } from '../../config.ts';
import { ConfigError, messageOf, SourceDataError } from '../../errors.ts';
import type { DataRecord } from '../../records.ts';
import type { TimeWindow } from '../../window.ts';
import type { Agent, AgentLimits, AgentModule, CollectContext } from '../agent.ts';
import { parseCsvFile } from './csv.ts';
import { parseEspiFile } from './espi-xml.ts';
import { type ParsedFile, type Series, seriesToRecords } from './series.ts';

/** Settings of the Green Button agent. */
export const greenbuttonSettings = z.object({
  /** Files to import (from the command line, or `GREENBUTTON_FILES` separated by the path delimiter or commas). */
  files: z.array(z.string().min(1)).min(1, 'expected at least one file: pass file names as arguments or set GREENBUTTON_FILES'),
  /** `location` tag of the records. */
  location: z.string().trim().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."').default('greenbutton_meter'),
});

/** Parsed Green Button settings. */
export type GreenbuttonSettings = z.output<typeof greenbuttonSettings>;

const SOURCE = 'homeflux.greenbutton';

/** The span used when neither `--since` nor `--until` is given: everything a file can hold. */
export const ALL_TIME: TimeWindow = { start: 0, end: 4_102_444_800 }; // 2100-01-01

/** ESPI XML or CSV, by the first non-blank character (a `<`), not by the file's extension. */
async function sniff(file: string): Promise<'xml' | 'csv'> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('<') ? 'xml' : 'csv';
  } finally {
    await handle.close();
  }
}

/** Parse one file into series; errors name the file. */
export async function parseGreenButtonFile(file: string, options: { timezone: string }): Promise<ParsedFile> {
  let kind: 'xml' | 'csv';
  try {
    kind = await sniff(file);
  } catch (error) {
    throw new SourceDataError(`${path.basename(file)}: cannot read: ${messageOf(error)}`);
  }
  return kind === 'xml' ? parseEspiFile(file) : parseCsvFile(file, options);
}

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
