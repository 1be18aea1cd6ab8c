/**
 * Settings of the `mqtt` agent, read from the environment (see src/agents/mqtt/README.md).
 *
 * `MQTT_DEVICES` is a comma-separated list of `preset:id=location` entries: the preset family
 * (parse.ts), the device's id as it appears in its topics (a Shelly's `shellyplus1pm-…`, a
 * Tasmota's `%topic%`, a Zigbee2MQTT friendly name) and the `location` tag of its records.
 */
import path from 'node:path';
import { z } from '../../deps.ts';
import { type Env, readEnv } from '../../config.ts';
import { ConfigError } from '../../errors.ts';
import { isValidTagValue } from '../../records.ts';
import { loadMapping } from './mapping.ts';
import { type Preset, PRESETS } from './parse.ts';

/** One configured device. */
export interface MqttDevice {
  preset: Preset;
  /** The id in its topics. */
  id: string;
  /** The `location` tag of its records. */
  location: string;
}

const ID = /^[^\s#+/][^#+]*$/;

/** Parse `MQTT_DEVICES`; an error message naming the bad entry instead of throwing. */
export function parseDevices(value: string): MqttDevice[] | string {
  const devices: MqttDevice[] = [];
  for (const raw of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const m = /^([a-z0-9-]+):(.+)=([^=]+)$/.exec(raw);
    if (!m) return `entry "${raw}": expected preset:id=location`;
    const [, preset, id, location] = m as unknown as [string, string, string, string];
    if (!(PRESETS as readonly string[]).includes(preset)) return `entry "${raw}": unknown preset "${preset}", expected one of ${PRESETS.join(', ')}`;
    if (!ID.test(id.trim())) return `entry "${raw}": the id may not contain "#" or "+" or start with "/"`;
    if (!isValidTagValue(location.trim()) || !/^[A-Za-z0-9_.-]+$/.test(location.trim())) return `entry "${raw}": expected a location of letters, digits, "_", "-" or "."`;
    if (devices.some((d) => d.preset === preset && d.id === id.trim())) return `entry "${raw}": the device is listed twice`;
    devices.push({ preset: preset as Preset, id: id.trim(), location: location.trim() });
  }
  if (devices.length === 0) return 'expected at least one preset:id=location entry';
  return devices;
}

/** The zod schema of the mqtt agent's settings. */
export const mqttSettings = z.object({
  url: z
    .string()
    .trim()
    .refine((v) => {
      try {
        return ['mqtt:', 'mqtts:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, 'expected mqtt://host[:port] or mqtts://host[:port]'),
  username: z.string().optional(),
  password: z.string().optional(),
  devices: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined) return [];
      const parsed = parseDevices(value);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      return parsed;
    }),
  /** A mapping file for devices outside the presets (mapping.ts). */
  mapping: z.string().optional(),
  /** One-shot mode: how long to listen for messages after subscribing (retained ones come at once). */
  listenSeconds: z.coerce.number().gt(0).max(300).default(5),
  connectTimeoutSeconds: z.coerce.number().gt(0).max(300).default(10),
  stateFile: z.string().optional(),
  dataDir: z.string().default('./data'),
});

/** Parsed settings (after defaults). */
export type MqttSettings = z.output<typeof mqttSettings>;

/** Read the settings; throws ConfigError naming the variable (never its value). */
export function mqttFromEnv(env: Env): MqttSettings {
  const settings = readEnv(mqttSettings, env, {
    url: 'MQTT_URL',
    username: 'MQTT_USERNAME',
    password: 'MQTT_PASSWORD',
    devices: 'MQTT_DEVICES',
    mapping: 'MQTT_MAPPING',
    listenSeconds: 'MQTT_LISTEN',
    connectTimeoutSeconds: 'MQTT_CONNECT_TIMEOUT',
    stateFile: 'MQTT_STATE_FILE',
    dataDir: 'HOMEFLUX_DATA_DIR',
  });
  if (settings.devices.length === 0 && settings.mapping === undefined) throw new ConfigError('MQTT_DEVICES or MQTT_MAPPING is required: the devices to read', 'MQTT_DEVICES');
  // A broken mapping file refuses to start (exit 2) rather than failing at the first message.
  if (settings.mapping !== undefined) loadMapping(settings.mapping);
  const url = new URL(settings.url);
  // Credentials belong in MQTT_USERNAME/MQTT_PASSWORD (masked), not in a URL that gets printed.
  if (url.username !== '' || url.password !== '') throw new ConfigError('MQTT_URL: put the credentials in MQTT_USERNAME and MQTT_PASSWORD, not in the URL', 'MQTT_URL');
  if (settings.password !== undefined && settings.username === undefined) throw new ConfigError('MQTT_USERNAME is required when MQTT_PASSWORD is set', 'MQTT_USERNAME');
  return settings;
}

/** Where the counters' last readings and the recent hours' energy are kept. */
export function stateFilePath(settings: MqttSettings): string {
  return settings.stateFile ?? path.join(settings.dataDir, 'mqtt-state.json');
}
