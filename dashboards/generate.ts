/**
 * Generate the Grafana dashboards (InfluxQL and Flux flavours) and provisioning files from
 * the TypeScript definitions in dashboards/src/.
 *
 *   npx tsx scripts/dashboards.ts                 # rewrite dashboards/{influxql,flux,provisioning}
 *   npx tsx scripts/dashboards.ts --check         # exit 1 when the committed files are stale
 *   npx tsx scripts/dashboards.ts --units metric --tiers 12,25 --timezone Europe/Berlin --out /tmp/dash
 *
 * The committed files use the defaults (imperial, 10/20 kWh/day, prefix "home", UTC days,
 * weeks from Monday); settings come from flags only, so the output never depends on the shell.
 */
import { EXIT } from '../src/cli.ts';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { WeekStart } from '../src/config.ts';
import type { Units } from '../src/records.ts';
import { generateFiles } from './src/index.ts';
import { DEFAULT_SETTINGS, type DashboardSettings, validateSettings } from './src/settings.ts';

const HELP = `usage: npx tsx scripts/dashboards.ts [options]

Write the homeflux Grafana dashboards (InfluxQL and Flux) and provisioning files.

options:
  --out DIR                  where to write (default: the dashboards/ folder)
  --check                    write nothing; exit 1 listing the files that differ
  --units imperial|metric    temperature unit of your data (default ${DEFAULT_SETTINGS.units})
  --tiers YELLOW,RED         daily rate-tier thresholds in kWh/day (default ${DEFAULT_SETTINGS.tiers.yellow},${DEFAULT_SETTINGS.tiers.red})
  --prefix PREFIX            default bucket prefix (default ${DEFAULT_SETTINGS.bucketPrefix})
  --timezone ZONE            IANA zone for day/week boundaries (default: UTC days)
  --week-start DAY           first day of the week (default ${DEFAULT_SETTINGS.weekStart})
  --exclude-power-sources RE regex on the source tag of power series that are not household energy
                             (default ${DEFAULT_SETTINGS.excludePowerSources})
  -h, --help                 this text`;

/** Settings from the command line, on top of the defaults. */
export function settingsFromArgs(values: { [name: string]: string | boolean | undefined }): DashboardSettings {
  const settings: DashboardSettings = { ...DEFAULT_SETTINGS, tiers: { ...DEFAULT_SETTINGS.tiers } };
  if (typeof values.units === 'string') settings.units = values.units as Units;
  if (typeof values.prefix === 'string') settings.bucketPrefix = values.prefix;
  if (typeof values.timezone === 'string') settings.timezone = values.timezone;
  if (typeof values['week-start'] === 'string') settings.weekStart = values['week-start'] as WeekStart;
  if (typeof values['exclude-power-sources'] === 'string') settings.excludePowerSources = values['exclude-power-sources'];
  if (typeof values.tiers === 'string') {
    const parts = values.tiers.split(',').map(Number);
    if (parts.length !== 2) throw new Error(`--tiers: expected YELLOW,RED in kWh/day such as 10,20, got "${values.tiers}"`);
    settings.tiers = { yellow: parts[0]!, red: parts[1]! };
  }
  return validateSettings(settings);
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Write (or with `--check`, compare) the generated files; returns the exit code (2: bad arguments). */
export async function generateDashboards(argv: string[]): Promise<number> {
  let settings: DashboardSettings;
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
    settings = settingsFromArgs(parsed.values);
  } catch (error) {
    console.error(`dashboards: ${error instanceof Error ? error.message : String(error)}\n\n${HELP}`);
    return EXIT.usage;
  }
  const { values } = parsed;
  if (values.help) {
    console.log(HELP);
    return EXIT.ok;
  }
  const out = values.out ?? dirname(fileURLToPath(import.meta.url));
  const files = generateFiles(settings);
  return values.check ? check(files, out) : write(files, out);
}

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string' },
      check: { type: 'boolean' },
      units: { type: 'string' },
      tiers: { type: 'string' },
      prefix: { type: 'string' },
      timezone: { type: 'string' },
      'week-start': { type: 'string' },
      'exclude-power-sources': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

async function check(files: Map<string, string>, out: string): Promise<number> {
  const stale: string[] = [];
  for (const [path, content] of files) if ((await readOrUndefined(join(out, path))) !== content) stale.push(path);
  if (stale.length > 0) {
    console.error(`dashboards out of date (run npx tsx scripts/dashboards.ts): ${stale.join(', ')}`);
    return EXIT.failed;
  }
  console.log(`dashboards up to date: ${files.size} files in ${out}`);
  return EXIT.ok;
}

async function write(files: Map<string, string>, out: string): Promise<number> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(out, path)), { recursive: true });
    await writeFile(join(out, path), content);
  }
  console.log(`wrote ${files.size} files to ${out}: ${[...files.keys()].join(', ')}`);
  return EXIT.ok;
}
