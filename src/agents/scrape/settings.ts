/**
 * The scrape agent's declarative configuration (`SCRAPE_CONFIG`, JSON or YAML) and its zod
 * schema. Credentials are never in the file: a login names the environment variables that
 * hold them.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from '../../deps.ts';
import type { Env } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { isValidTagValue } from '../../records.ts';

const name = z.string().trim().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."');
// Measurement, field and tag names: InfluxDB reserves "_…" (and "time" for keys); a config
// using them would only fail later, record by record, in validateRecord (found by fuzzing).
const measurementName = name.refine((v) => !v.startsWith('_'), 'names starting with "_" are reserved by InfluxDB');
const keyName = measurementName.refine((v) => v !== 'time', '"time" is reserved by InfluxDB');
const tagValue = z.string().refine(isValidTagValue, 'expected a non-empty value without control characters or backslashes');

/** Units a value may be given in; energy, power and temperature are converted (see scrape.md). */
export const UNITS = ['W', 'kW', 'Wh', 'kWh', 'MWh', 'Wmin', '°C', '°F', 'C', 'F', '%', 'V', 'A', 'VA', 'Hz', 's', 'min', ''] as const;

/** One value read from a page. */
export const valueSchema = z
  .object({
    /** Names the value in messages. */
    name,
    /** CSS selector (HTML pages); the text of the first match, or `attribute`. */
    selector: z.string().min(1).optional(),
    attribute: z.string().min(1).optional(),
    /** Dotted path with `[n]` indexes (JSON pages), e.g. `meters[0].power`. */
    path: z.string().min(1).optional(),
    /** Regular expression applied to the text; the first capture group (or the match) is the value. */
    regex: z.string().min(1).optional(),
    unit: z.enum(UNITS).default(''),
    /** `number` (default) or `string` (e.g. a UPS status word). */
    type: z.enum(['number', 'string']).default('number'),
    measurement: measurementName,
    field: keyName,
    tags: z.record(keyName, tagValue).default({}),
  })
  .refine((v) => (v.selector === undefined) !== (v.path === undefined), { message: 'give exactly one of "selector" (HTML) or "path" (JSON)' })
  .refine((v) => {
    if (v.regex === undefined) return true;
    try {
      new RegExp(v.regex);
      return true;
    } catch {
      return false;
    }
  }, { message: '"regex" is not a valid regular expression' });

/** A form login done before the page is fetched. */
export const loginSchema = z.object({
  /** The page holding the login form. */
  url: z.url(),
  /** CSS selector of the form; default: the first form with a password input. */
  form: z.string().min(1).optional(),
  /** Input names; default: the password input and the first text/email input of the form. */
  usernameField: z.string().min(1).optional(),
  passwordField: z.string().min(1).optional(),
  /** Names of the environment variables holding the credentials (never the credentials). */
  usernameEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
  passwordEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name'),
  /** Extra form fields to send (e.g. a language selector), not secrets. */
  fields: z.record(z.string(), z.string()).default({}),
});

/** One page and the values read from it. */
export const pageSchema = z.object({
  name,
  url: z.url(),
  /** `json` or `html`; default from the response's content type. */
  format: z.enum(['json', 'html']).optional(),
  /** `location` tag of every value of the page (the device). */
  location: name,
  login: loginSchema.optional(),
  values: z.array(valueSchema).min(1),
});

/** The whole file. */
export const scrapeConfigSchema = z.object({
  /** `source` tag: `homeflux.scrape` unless given. */
  source: name.default('homeflux.scrape'),
  pages: z.array(pageSchema).min(1),
});

/** Parsed scrape configuration. */
export type ScrapeConfig = z.output<typeof scrapeConfigSchema>;
/** One page of it. */
export type PageConfig = z.output<typeof pageSchema>;
/** One value of a page. */
export type ValueConfig = z.output<typeof valueSchema>;

/**
 * Read and validate the file named by `SCRAPE_CONFIG`; every credential variable a login names
 * must be set. Throws {@link ConfigError} naming the file and the offending entry.
 */
export function loadScrapeConfig(env: Env): ScrapeConfig {
  const file = env.SCRAPE_CONFIG?.trim();
  if (!file) throw new ConfigError('SCRAPE_CONFIG is required but not set (path of a JSON or YAML file)', 'SCRAPE_CONFIG');
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`SCRAPE_CONFIG ${file}: cannot read it as JSON or YAML: ${(error as Error).message.split('\n')[0]}`, 'SCRAPE_CONFIG');
  }
  const parsed = scrapeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`SCRAPE_CONFIG ${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`, 'SCRAPE_CONFIG');
  }
  for (const page of parsed.data.pages) {
    for (const variable of page.login ? [page.login.usernameEnv, page.login.passwordEnv] : []) {
      if (!env[variable]) throw new ConfigError(`${variable} is required but not set (login of page "${page.name}" in ${file})`, variable);
    }
  }
  return parsed.data;
}
