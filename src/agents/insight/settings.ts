/** Settings of the insight agent: which series to read, and how unusual a day must be to be an anomaly. */
import { z } from '../../deps.ts';
import { type Env, readEnv } from '../../config.ts';

/** The settings. */
export const insightSettings = z.object({
  meter: z.string().trim().min(1).optional(),
  weather: z.string().trim().min(1).optional(),
  anomalySigma: z.coerce.number().gt(0, 'expected a number of standard deviations > 0').max(20).default(3),
  // Gas: the `gas` series (in the meter's unit), heating-only models, zero days kept.
  fuel: z.enum(['electricity', 'gas']).default('electricity'),
});

/** Parsed insight settings. */
export type InsightSettings = z.output<typeof insightSettings>;

/** Environment variable of each setting. */
export const INSIGHT_ENV = { meter: 'INSIGHT_METER', weather: 'INSIGHT_WEATHER', anomalySigma: 'INSIGHT_ANOMALY_SIGMA', fuel: 'INSIGHT_FUEL' } as const;

/** Read the settings. */
export function insightFromEnv(env: Env): InsightSettings {
  return readEnv(insightSettings, env, INSIGHT_ENV);
}
