/**
 * Settings of the `nut` agent, read from the environment (see src/agents/nut/README.md).
 *
 * `NUT_HOSTS` is a comma-separated list of `name=host[:port]` entries; `name=ups@host[:port]`
 * (upsc's own notation) picks the UPS for that entry, overriding `NUT_UPS_NAME`. IPv6
 * addresses go in brackets: `rack=[fd00::2]:3493`.
 */
import path from 'node:path';
import { z } from '../../deps.ts';
import { booleanString, type Env, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { NUT_DEFAULT_PORT } from './client.ts';

/** One UPS server to sample. */
export interface NutHost {
  /** The `location` tag of its records. */
  name: string;
  host: string;
  /** Undefined: `NUT_PORT`. */
  port?: number;
  /** UPS names from `name=ups@host`; undefined: `NUT_UPS_NAME`. */
  ups?: string[];
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const UPS = /^[A-Za-z0-9_.:-]+$/;

/** Parse `NUT_HOSTS`; returns an error message (naming the bad entry) instead of throwing. */
export function parseHosts(value: string): NutHost[] | string {
  const hosts: NutHost[] = [];
  for (const raw of value.split(',').map((entry) => entry.trim()).filter(Boolean)) {
    const eq = raw.indexOf('=');
    const name = eq >= 0 ? raw.slice(0, eq).trim() : '';
    let rest = eq >= 0 ? raw.slice(eq + 1).trim() : raw;
    if (!NAME.test(name)) return `entry "${raw}": expected name=host[:port] with a name of letters, digits, "_", "-" or "."`;
    let ups: string[] | undefined;
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const upsName = rest.slice(0, at);
      if (!UPS.test(upsName)) return `entry "${raw}": expected a UPS name before "@", found "${upsName}"`;
      ups = [upsName];
      rest = rest.slice(at + 1);
    }
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(rest);
    if (!match) return `entry "${raw}": expected host, host:port or [ipv6]:port after "${name}="`;
    const port = match[3] === undefined ? undefined : Number(match[3]);
    if (port !== undefined && (port < 1 || port > 65535)) return `entry "${raw}": port must be 1-65535, found ${port}`;
    if (hosts.some((h) => h.name === name)) return `entry "${raw}": the name "${name}" is used twice`;
    hosts.push({ name, host: (match[1] ?? match[2])!, port, ups });
  }
  if (hosts.length === 0) return 'expected at least one name=host[:port] entry';
  return hosts;
}

/** Parse `NUT_UPS_NAME`: `*` means every UPS the server lists, else a comma-separated list. */
export function parseUpsNames(value: string): string[] | '*' | string {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  if (names.length === 0 || names.includes('*')) return '*';
  const bad = names.find((n) => !UPS.test(n));
  return bad === undefined ? names : `expected UPS names of letters, digits, "_", "-", "." or "*", found "${bad}"`;
}

/** The zod schema of the nut agent's settings. */
export const nutSettings = z.object({
  hosts: z.string().transform((value, ctx) => {
    const parsed = parseHosts(value);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
  username: z.string().optional(),
  password: z.string().optional(),
  port: z.coerce.number().int().min(1).max(65535).default(NUT_DEFAULT_PORT),
  upsName: z
    .string()
    .default('ups')
    .transform((value, ctx) => {
      const parsed = parseUpsNames(value);
      if (typeof parsed === 'string' && parsed !== '*') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed as string[] | '*';
    }),
  powerFactor: z.coerce.number().gt(0).max(1).default(0.6),
  connectTimeoutSeconds: z.coerce.number().gt(0).max(300).default(5),
  readTimeoutSeconds: z.coerce.number().gt(0).max(300).default(10),
  verifyLogin: booleanString.optional(),
  stateFile: z.string().optional(),
  dataDir: z.string().default('./data'),
});

/** Parsed settings (after defaults). */
export type NutSettings = z.output<typeof nutSettings>;

/** Read the settings; throws ConfigError naming the variable (never its value). */
export function nutFromEnv(env: Env): NutSettings {
  const settings = readEnv(nutSettings, env, {
    hosts: 'NUT_HOSTS',
    username: 'NUT_USERNAME',
    password: 'NUT_PASSWORD',
    port: 'NUT_PORT',
    upsName: 'NUT_UPS_NAME',
    powerFactor: 'NUT_POWER_FACTOR',
    connectTimeoutSeconds: 'NUT_CONNECT_TIMEOUT',
    readTimeoutSeconds: 'NUT_READ_TIMEOUT',
    verifyLogin: 'NUT_VERIFY_LOGIN',
    stateFile: 'NUT_STATE_FILE',
    dataDir: 'HOMEFLUX_DATA_DIR',
  });
  // Half a credential would send USERNAME without PASSWORD: upsd then refuses every LOGIN.
  if (settings.password !== undefined && settings.username === undefined) throw new ConfigError('NUT_USERNAME is required when NUT_PASSWORD is set', 'NUT_USERNAME');
  if (settings.username !== undefined && settings.password === undefined) throw new ConfigError('NUT_PASSWORD is required when NUT_USERNAME is set', 'NUT_PASSWORD');
  return settings;
}

/** Where the current hour's samples are kept between runs. */
export function stateFilePath(settings: NutSettings): string {
  return settings.stateFile ?? path.join(settings.dataDir, 'nut-state.json');
}
