/**
 * Configuration from the environment: one place, typed with zod, clear errors.
 *
 * Every message names the variable and what was expected, never the value (it may be a secret).
 * Agents read their own settings with {@link readEnv}, so they share this behaviour.
 */
import { IANAZone } from 'luxon';
import { z } from './deps.ts';
import { ConfigError } from './errors.ts';
import type { Units } from './records.ts';

/** The process environment, or any plain map of variables (tests). */
export type Env = { readonly [name: string]: string | undefined };

/** Day a week starts on for weekly records (`HOMEFLUX_WEEK_START`). */
export type WeekStart = 'monday' | 'tuesday' | 'wednesday' | 'thursday' | 'friday' | 'saturday' | 'sunday';

/** Where records go. */
export type Target =
  | { kind: 'file'; dataDir: string }
  | { kind: 'v2'; url: string; token?: string; org?: string; bucketLabel?: string }
  | { kind: 'v1'; url: string; username?: string; password?: string };

/** The settings shared by every script. */
export interface Config {
  target: Target;
  bucketPrefix: string;
  spoolDir: string;
  /** The spool's size cap (`HOMEFLUX_SPOOL_MAX_MB`, default 256 MiB): past it the oldest points go, loudly. */
  spoolMaxBytes: number;
  dryRun: boolean;
  debug: boolean;
  timezone: string;
  weekStart: WeekStart;
  units: Units;
  /** Seconds a run may spend retrying writes before spooling (`HOMEFLUX_RETRY_SECONDS`). */
  retrySeconds: number;
  /** Compress write bodies: `auto` = unless the database is on this machine (`INFLUX_GZIP`). */
  gzip: 'auto' | boolean;
  /** Per-request timeout in seconds for databases and sources (`HOMEFLUX_HTTP_TIMEOUT`). */
  httpTimeoutSeconds: number;
  /**
   * The run's clock (`HOMEFLUX_NOW`, Unix seconds or an ISO date-time with an offset), when
   * pinned: a past hour re-run exactly as it ran, or a simulated month of hourly runs in tests.
   */
  now?: number;
}

/** Names of variables whose values are secrets (masked in all output). */
export const SECRET_PATTERN = /(TOKEN|PASSWORD|SECRET|COOKIE|API_?KEY|STATE_KEY|PASS)$/i;

/**
 * Values of every secret-looking variable in `env`, for masking. On GitHub Actions the
 * database's host joins them: `INFLUX_URL` is a repository secret there, and the runner masks
 * the whole URL but not the host printed on its own (`written to v2 db.example.net:8086`).
 */
export function secretValues(env: Env): string[] {
  const values = Object.entries(env)
    .filter(([name, value]) => SECRET_PATTERN.test(name) && value !== undefined && value.length >= 3)
    .map(([, value]) => value as string);
  return env.GITHUB_ACTIONS === 'true' ? [...values, ...hostsOf(env.INFLUX_URL)] : values;
}

/** `host:port` and the host name of a URL (none when it is not one). */
export function hostsOf(url: string | undefined): string[] {
  try {
    const parsed = new URL(url ?? '');
    return [...new Set([parsed.host, parsed.hostname])].filter((h) => h.length >= 3);
  } catch {
    return [];
  }
}

/** A strict boolean: `true/false/1/0/yes/no` (any case); anything else is an error. */
export const booleanString = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), { message: 'expected true, false, 1 or 0' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** An http(s) URL without a trailing slash. */
export const httpUrl = z
  .string()
  .trim()
  .refine(
    (v) => {
      try {
        const url = new URL(v);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { message: 'expected an http:// or https:// URL' },
  )
  .transform((v) => v.replace(/\/+$/, ''));

/** An IANA time zone name such as `America/Los_Angeles`. */
export const timeZone = z
  .string()
  .trim()
  .refine((v) => IANAZone.isValidZone(v), { message: 'expected an IANA time zone such as America/Los_Angeles' });

/** For each setting, the variable names to read it from, first found wins (aliases after). */
export type EnvNames<T> = { [K in keyof T]-?: string | readonly string[] };

/**
 * Read a zod object schema's settings from the environment. Empty strings count as unset.
 * Errors name the variable actually read (or the first alias) and what was expected.
 */
export function readEnv<S extends z.ZodObject>(schema: S, env: Env, names: EnvNames<z.input<S>>): z.output<S> {
  const raw: { [key: string]: string } = {};
  const used: { [key: string]: string } = {};
  for (const [key, spec] of Object.entries(names) as [string, string | readonly string[]][]) {
    const candidates = typeof spec === 'string' ? [spec] : spec;
    used[key] = candidates[0]!;
    for (const name of candidates) {
      const value = env[name];
      if (value !== undefined && value.trim() !== '') {
        raw[key] = value;
        used[key] = name;
        break;
      }
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const variable = used[key] ?? key;
  const message = issue.code === 'invalid_type' && raw[key] === undefined ? 'is required but not set' : `is invalid: ${issue.message}`;
  throw new ConfigError(`${variable} ${message}`, variable);
}

function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

const baseSchema = z.object({
  url: httpUrl.optional(),
  api: z.enum(['v1', 'v2']).optional(),
  token: z.string().optional(),
  org: z.string().optional(),
  bucketLabel: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name such as "bucket"')
    .optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  bucketPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."')
    .default('home'),
  dataDir: z.string().default('./data'),
  spoolDir: z.string().default('./spool'),
  // A week-long outage of an hourly run with minute samples is a few MiB de-duplicated; the cap
  // only stops a spool that would never drain from filling a cache or a disk.
  spoolMaxMb: z.coerce.number().gt(0).max(10_000).default(256),
  dryRun: booleanString.default(false),
  debug: booleanString.default(false),
  timezone: timeZone.optional(),
  weekStart: z.enum(['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday']).default('monday'),
  units: z.enum(['imperial', 'metric']).default('imperial'),
  retrySeconds: z.coerce.number().min(0).max(3600).default(60),
  gzip: z.union([z.literal('auto'), booleanString]).default('auto'),
  httpTimeoutSeconds: z.coerce.number().gt(0).max(600).default(30),
  now: z
    .string()
    .trim()
    .transform((v, ctx) => {
      const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v) / 1000;
      if (!Number.isFinite(t) || !/^\d+$|(Z|[+-]\d\d:\d\d)$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'expected Unix seconds or an ISO date-time with an offset (2026-11-01T14:17:00Z)' });
        return z.NEVER;
      }
      return Math.floor(t);
    })
    .optional(),
});

/** Read the shared configuration; throws {@link ConfigError} naming the variable. */
export function loadConfig(env: Env): Config {
  const s = readEnv(baseSchema, env, {
    url: 'INFLUX_URL',
    api: 'INFLUX_API',
    token: 'INFLUX_TOKEN',
    org: 'INFLUX_ORG',
    bucketLabel: 'INFLUX_BUCKET_LABEL',
    username: 'INFLUX_USERNAME',
    password: 'INFLUX_PASSWORD',
    bucketPrefix: 'INFLUX_BUCKET_PREFIX',
    dataDir: 'HOMEFLUX_DATA_DIR',
    spoolDir: 'HOMEFLUX_SPOOL_DIR',
    spoolMaxMb: 'HOMEFLUX_SPOOL_MAX_MB',
    dryRun: 'HOMEFLUX_DRY_RUN',
    debug: 'HOMEFLUX_DEBUG',
    timezone: 'HOMEFLUX_TIMEZONE',
    weekStart: 'HOMEFLUX_WEEK_START',
    units: 'HOMEFLUX_UNITS',
    retrySeconds: 'HOMEFLUX_RETRY_SECONDS',
    gzip: 'INFLUX_GZIP',
    httpTimeoutSeconds: 'HOMEFLUX_HTTP_TIMEOUT',
    now: 'HOMEFLUX_NOW',
  });
  let target: Target;
  if (s.url === undefined) {
    target = { kind: 'file', dataDir: s.dataDir };
  } else if (s.api === 'v1') {
    target = { kind: 'v1', url: s.url, username: s.username, password: s.password };
  } else {
    target = { kind: 'v2', url: s.url, token: s.token, org: s.org, bucketLabel: s.bucketLabel };
  }
  return {
    target,
    bucketPrefix: s.bucketPrefix,
    spoolDir: s.spoolDir,
    spoolMaxBytes: Math.round(s.spoolMaxMb * 1024 * 1024),
    dryRun: s.dryRun,
    debug: s.debug,
    timezone: s.timezone ?? systemTimeZone(),
    weekStart: s.weekStart,
    units: s.units,
    retrySeconds: s.retrySeconds,
    gzip: s.gzip,
    httpTimeoutSeconds: s.httpTimeoutSeconds,
    ...(s.now === undefined ? {} : { now: s.now }),
  };
}
