/**
 * `opower`: quarter-hour, hourly and daily meter reads, cost (with its tier and time-of-use
 * split), billing periods, the bill forecast and outdoor temperature from a utility's Opower
 * portal (Glendale Water and Power and the other utilities in `opower/utilities.ts`).
 * See src/agents/opower/README.md.
 */
import type { Config, Env } from '../../config.ts';
import type { RollupSpec } from '../../rollup.ts';
import type { AgentLimits, AgentModule } from '../agent.ts';
import { MAX_CHUNK_DAYS, OpowerAgent } from './agent.ts';
import { sessionPath } from './session.ts';
import { findUtility, type Utility } from './utilities.ts';
import { type OpowerSettings, opowerFromEnv, opowerSettings } from './settings.ts';

export { OPOWER_ENV, type OpowerSettings, opowerFromEnv, opowerSettings } from './settings.ts';
export { OpowerAgent, dateSpans, metersFor, REQUEST_DAYS, selectedEntities, settleRecords } from './agent.ts';
export { aggregatesFor, allowsQuarterHour, untilToday, type QuarterHourMode } from './resolution.ts';
export { OpowerClient, BROWSER_USER_AGENT } from './client.ts';
export { UTILITIES, UTILITY_IDS, findUtility, jsonSignin, type LoginStrategy, type Utility } from './utilities.ts';

function utilityOf(settings: OpowerSettings): Utility {
  return findUtility(settings.utility)!;
}

/** The kept session's file and key, for sign-ins that keep one and when HOMEFLUX_STATE_KEY is set. */
export function sessionOf(settings: OpowerSettings): { file: string; key: string } | undefined {
  const utility = utilityOf(settings);
  if (!utility.login.keepsSession || settings.stateKey === undefined) return undefined;
  return { file: settings.sessionFile ?? sessionPath(settings.dataDir, utility.id), key: settings.stateKey };
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
  description: 'Meter reads (quarter-hour/hourly/daily), cost, bills, bill forecast and weather from an Opower utility portal (29 utilities: GWP, AEP, Exelon, National Grid, Eversource, ConEd, PSE, PGE and more — see its README).',
  settings: opowerSettings,
  requires: [
    ['OPOWER_USERNAME', 'GWP_USER'],
    ['OPOWER_PASSWORD', 'GWP_PASSWORD'],
  ],
  fromEnv: (env: Env) => opowerFromEnv(env),
  create: (settings: OpowerSettings, config: Config) =>
    new OpowerAgent(
      {
        utility: utilityOf(settings),
        username: settings.username,
        password: settings.password,
        accountUuid: settings.accountUuid,
        baseUrl: settings.baseUrl,
        loginBaseUrl: settings.loginBaseUrl,
        totpSecret: settings.totpSecret,
        session: sessionOf(settings),
        concurrency: settings.concurrency,
        quarterHour: settings.quarterHour,
      },
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
