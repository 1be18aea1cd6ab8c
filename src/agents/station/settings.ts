/**
 * Settings of the `station` agent (see src/agents/station/README.md). The station's PASSKEY
 * and its Wunderground-style ID/PASSWORD are what an upload must carry to be accepted; both
 * are secrets (masked in all output, never logged).
 */
import path from 'node:path';
import { z } from '../../deps.ts';
import { type Env, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';

/** Parse `HOST:PORT` or `[IPv6]:PORT`; an error message instead of throwing. */
export function parseListen(value: string): { host: string; port: number } | string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (!m) return `expected HOST:PORT such as 127.0.0.1:8125 or [::1]:8125, found "${value}"`;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `port must be 1-65535, found ${port}`;
  return { host: (m[1] ?? m[2])!, port };
}

/** The zod schema of the station agent's settings. */
export const stationSettings = z.object({
  listen: z
    .string()
    .default('127.0.0.1:8125')
    .transform((value, ctx) => {
      const parsed = parseListen(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  passkey: z.string().optional(),
  id: z.string().optional(),
  password: z.string().optional(),
  location: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "-" or "."').default('station'),
  maxPending: z.coerce.number().int().min(10).max(1_000_000).default(10_000),
  dataDir: z.string().default('./data'),
});

/** Parsed settings (after defaults). */
export type StationSettings = z.output<typeof stationSettings>;

/** Read the settings; throws ConfigError naming the variable (never its value). */
export function stationFromEnv(env: Env): StationSettings {
  const settings = readEnv(stationSettings, env, {
    listen: 'STATION_LISTEN',
    passkey: 'STATION_PASSKEY',
    id: 'STATION_ID',
    password: 'STATION_PASSWORD',
    location: 'STATION_LOCATION',
    maxPending: 'STATION_MAX_PENDING',
    dataDir: 'HOMEFLUX_DATA_DIR',
  });
  // An open receiver would store whatever anyone on the network posts.
  if (settings.passkey === undefined && settings.id === undefined) throw new ConfigError('STATION_PASSKEY (Ecowitt) or STATION_ID and STATION_PASSWORD (Wunderground protocol) are required: uploads without them are refused', 'STATION_PASSKEY');
  if ((settings.id === undefined) !== (settings.password === undefined)) throw new ConfigError('STATION_ID and STATION_PASSWORD go together', settings.id === undefined ? 'STATION_ID' : 'STATION_PASSWORD');
  return settings;
}

/** The state files: hourly means, and the rain counter. */
export function stateFiles(settings: StationSettings): { means: string; rain: string } {
  return { means: path.join(settings.dataDir, 'station-means.json'), rain: path.join(settings.dataDir, 'station-rain.json') };
}
