/** Settings of the cost agent: the tariff file (parsed when read), the meter to price, the plan's name. */
import { readFileSync } from 'node:fs';
import { z } from '../../deps.ts';
import { type Config, type Env, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { parseTariff, type Tariff } from '../../insight/tariff/file.ts';

/** The settings as read from the environment. */
export const costSettings = z.object({
  tariffFile: z.string().trim().min(1),
  meter: z.string().trim().min(1).optional(),
  plan: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."')
    .optional(),
});

/** Parsed settings, the tariff included. */
export type CostSettings = z.output<typeof costSettings> & { tariff: Tariff; plan: string };

/** Environment variable of each setting. */
export const COST_ENV = { tariffFile: 'COST_TARIFF', meter: 'COST_METER', plan: 'COST_PLAN' } as const;

/** A tag value from a plan's name: `GWP Residential (2025)` → `gwp_residential_2025`. */
export const planTag = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '') || 'plan';

/** Read a tariff file synchronously (settings are read before the run starts). */
export function readTariff(file: string, timezone: string): Tariff {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`tariff ${file}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'COST_TARIFF');
  }
  return parseTariff(text, file, timezone);
}

/** Read the settings and the tariff they name. */
export function costFromEnv(env: Env, config: Config): CostSettings {
  const s = readEnv(costSettings, env, COST_ENV);
  const tariff = readTariff(s.tariffFile, config.timezone);
  return { ...s, tariff, plan: s.plan ?? planTag(tariff.name) };
}
