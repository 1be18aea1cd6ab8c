/** Settings of the opower agent: the zod schema, the environment variables, `opowerFromEnv`. */
import { z } from '../../deps.ts';
import { booleanString, type Env, httpUrl, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import type { QuarterHourMode } from './resolution.ts';
import { base32Decode } from './signin/totp.ts';
import { findUtility, UTILITY_IDS } from './utilities.ts';

const isBase32 = (text: string): boolean => {
  try {
    return base32Decode(text).length > 0;
  } catch {
    return false;
  }
};

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
  loginBaseUrl: httpUrl.optional(),
  totpSecret: z
    .string()
    .optional()
    .refine((v) => v === undefined || isBase32(v), { message: 'expected the base32 secret an authenticator app is given (letters A–Z and digits 2–7)' }),
  /** Where a kept sign-in session is sealed (default: opower-{utility}-session.sealed in the data dir). */
  sessionFile: z.string().trim().min(1).optional(),
  /** HOMEFLUX_STATE_KEY: seals the kept session; without it nothing is kept. */
  stateKey: z.string().min(16, { message: 'expected at least 16 characters (e.g. `openssl rand -base64 32`)' }).optional(),
  dataDir: z.string().default('./data'),
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
  loginBaseUrl: 'OPOWER_LOGIN_BASE_URL',
  totpSecret: 'OPOWER_TOTP_SECRET',
  sessionFile: 'OPOWER_SESSION_FILE',
  stateKey: 'HOMEFLUX_STATE_KEY',
  dataDir: 'HOMEFLUX_DATA_DIR',
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
