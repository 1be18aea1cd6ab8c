/**
 * `opower`: quarter-hour, hourly and daily meter reads, cost (with its tier and time-of-use
 * split), billing periods, the bill forecast and outdoor temperature from a utility's Opower
 * portal (Glendale Water and Power and the other utilities in `opower/utilities.ts`).
 * See src/agents/opower/README.md.
 */
import { z } from '../../deps.ts';
import { booleanString, type Config, type Env, httpUrl, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { RollupSpec } from '../../rollup.ts';
import type { AgentLimits, AgentModule } from '../agent.ts';
import { MAX_CHUNK_DAYS, OpowerAgent } from './agent.ts';
import type { QuarterHourMode } from './resolution.ts';
import { findUtility, UTILITY_IDS, type Utility } from './utilities.ts';

export { OpowerAgent, dateSpans, metersFor, REQUEST_DAYS, selectedEntities, settleRecords } from './agent.ts';
export { aggregatesFor, allowsQuarterHour, untilToday, type QuarterHourMode } from './resolution.ts';
export { OpowerClient, BROWSER_USER_AGENT } from './client.ts';
export { UTILITIES, UTILITY_IDS, findUtility, jsonSignin, type LoginStrategy, type Utility } from './utilities.ts';

/** Settings of the opower agent (after reading the environment). */
export const opowerSettings = z.object({
  utility: z
    .string()
    .trim()
    .toLowerCase()
    .refine((id) => findUtility(id) !== undefined, { message: `expected one of ${UTILITY_IDS.join(', ')}` }),
  username: z.string().min(1),
  password: z.string().min(1),
  accountUuid: z.string().trim().min(1).optional(),
  baseUrl: httpUrl.optional(),
  concurrency: z.coerce.number().int().min(1).max(8).default(4),
  // auto: quarter hours where the account's readResolution allows them; true: the same, and a
  // problem (exit 1) when no account allows them; false: never.
  quarterHour: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'auto' || booleanString.safeParse(v).success, { message: 'expected auto, true or false' })
    .transform((v): QuarterHourMode => (v === 'auto' ? 'auto' : booleanString.parse(v)))
    .default('auto'),
});

/** Parsed opower settings. */
export type OpowerSettings = z.output<typeof opowerSettings>;

/** Environment variable names per setting; `GWP_*` are the original daemon's names. */
export const OPOWER_ENV = {
  utility: 'OPOWER_UTILITY',
  username: ['OPOWER_USERNAME', 'GWP_USER'],
  password: ['OPOWER_PASSWORD', 'GWP_PASSWORD'],
  accountUuid: ['OPOWER_ACCOUNT_UUID', 'GWP_UUID'],
  baseUrl: 'OPOWER_BASE_URL',
  concurrency: 'OPOWER_CONCURRENCY',
  quarterHour: 'OPOWER_QUARTER_HOUR',
} as const;

const set = (env: Env, name: string): boolean => (env[name] ?? '').trim() !== '';

/** Read the settings; `OPOWER_UTILITY` defaults to `gwp` when the original `GWP_*` names are used. */
export function opowerFromEnv(env: Env): OpowerSettings {
  let effective = env;
  if (!set(env, 'OPOWER_UTILITY')) {
    if (!['GWP_USER', 'GWP_PASSWORD', 'GWP_UUID'].some((name) => set(env, name))) {
      throw new ConfigError(`OPOWER_UTILITY is required but not set: expected one of ${UTILITY_IDS.join(', ')}`, 'OPOWER_UTILITY');
    }
    effective = { ...env, OPOWER_UTILITY: 'gwp' };
  }
  return readEnv(opowerSettings, effective, OPOWER_ENV);
}

function utilityOf(settings: OpowerSettings): Utility {
  return findUtility(settings.utility)!;
}

// Energy and money: the portal's own daily totals are kept as day records (a utility's day
// may include corrections the hours lack), so only day→week is derived. Temperature: the
// portal's daily means, averaged into weeks; hourly weather stays hourly.
const ROLLUPS: readonly RollupSpec[] = [
  { measurement: 'power', from: 'day', to: 'week', how: 'sum', fields: ['power_usage'] },
  { measurement: 'gas', from: 'day', to: 'week', how: 'sum', fields: ['gas_usage'] },
  { measurement: 'water', from: 'day', to: 'week', how: 'sum', fields: ['water_usage'] },
  { measurement: 'cost', from: 'day', to: 'week', how: 'sum', fields: ['cost'] },
  { measurement: 'cost_component', from: 'day', to: 'week', how: 'sum', fields: ['energy', 'cost'] },
  { measurement: 'temperature', from: 'day', to: 'week', how: 'mean', fields: ['temperature'] },
];

/** The opower agent module. */
export const opower: AgentModule<OpowerSettings> = {
  name: 'opower',
  description: 'Meter reads (quarter-hour/hourly/daily), cost, bills, bill forecast and weather from an Opower utility portal (GWP, BWP, Clark, NIPSCO, Rhode Island Energy).',
  settings: opowerSettings,
  requires: [
    ['OPOWER_USERNAME', 'GWP_USER'],
    ['OPOWER_PASSWORD', 'GWP_PASSWORD'],
  ],
  fromEnv: (env: Env) => opowerFromEnv(env),
  create: (settings: OpowerSettings, config: Config) =>
    new OpowerAgent(
      { utility: utilityOf(settings), username: settings.username, password: settings.password, accountUuid: settings.accountUuid, baseUrl: settings.baseUrl, concurrency: settings.concurrency, quarterHour: settings.quarterHour },
      config,
    ),
  limits: (): AgentLimits => ({
    // One chunk = what one day request covers; hour requests inside it run in parallel.
    maxWindow: { maxDays: MAX_CHUNK_DAYS },
    // Portal data arrives 1–2 days late: the last 5 days heal a few missed runs.
    lookback: 5 * 86400,
    rollups: ROLLUPS,
  }),
};

export default opower;
