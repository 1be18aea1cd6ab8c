/**
 * The mqtt agent's mapping file (`MQTT_MAPPING`, YAML or JSON) for devices outside the presets:
 * each entry names a topic filter, the `location` (and optional `channel`) of its records, and
 * where each value sits in the payload with its unit — the scraper's config shape, for MQTT.
 *
 * ```yaml
 * devices:
 *   - topic: home/energy/sensor          # an MQTT filter; + and # allowed
 *     location: main_panel
 *     values:
 *       - { path: P1, reading: power, unit: W }
 *       - { path: E_total, reading: energy_total, unit: kWh }
 *   - topic: garage/temp                 # a payload that is just a number
 *     location: garage
 *     format: number
 *     values: [{ reading: temperature, unit: F }]
 * ```
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { z } from '../../deps.ts';
import { ConfigError, excerpt, SourceDataError } from '../../errors.ts';
import { jsonPath } from '../../json-path.ts';
import { toWh } from '../../records.ts';
import type { Reading } from './parse.ts';

const name = z.string().trim().regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", "-", ":" or "."');

const valueSchema = z.discriminatedUnion('reading', [
  z.object({ reading: z.literal('power'), path: z.string().min(1).optional(), unit: z.enum(['W', 'kW']).default('W') }),
  z.object({ reading: z.literal('voltage'), path: z.string().min(1).optional(), unit: z.literal('V').default('V') }),
  z.object({ reading: z.literal('current'), path: z.string().min(1).optional(), unit: z.enum(['A', 'mA']).default('A') }),
  z.object({ reading: z.literal('energy_total'), path: z.string().min(1).optional(), unit: z.enum(['Wh', 'kWh', 'MWh', 'Wmin']) }),
  z.object({ reading: z.literal('temperature'), path: z.string().min(1).optional(), unit: z.enum(['C', 'F']) }),
  z.object({ reading: z.literal('humidity'), path: z.string().min(1).optional(), unit: z.literal('%').default('%') }),
]);

const deviceSchema = z
  .object({
    topic: z.string().min(1),
    location: name,
    channel: name.optional(),
    format: z.enum(['json', 'number']).default('json'),
    values: z.array(valueSchema).min(1),
  })
  .refine((d) => d.format === 'number' || d.values.every((v) => v.path !== undefined), { message: 'a JSON payload needs a "path" for every value' })
  .refine((d) => d.format === 'json' || d.values.length === 1, { message: 'a number payload has one value' });

/** The mapping file's schema. */
export const mappingSchema = z.object({ devices: z.array(deviceSchema).min(1) });

/** One mapped device. */
export type MappedDevice = z.output<typeof deviceSchema>;

/** Read and check the mapping file; a ConfigError names the file and the entry. */
export function loadMapping(file: string): MappedDevice[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`MQTT_MAPPING: cannot read ${file}: ${(error as Error).message}`, 'MQTT_MAPPING');
  }
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new ConfigError(`MQTT_MAPPING: ${file} is not YAML or JSON: ${(error as Error).message}`, 'MQTT_MAPPING');
  }
  const parsed = mappingSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`MQTT_MAPPING: ${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`, 'MQTT_MAPPING');
  }
  return parsed.data.devices;
}

/** The reading of one message of a mapped device. Throws SourceDataError naming the topic and the value. */
export function parseMapped(device: MappedDevice, topic: string, payload: string): Reading[] {
  let data: unknown;
  if (device.format === 'json') {
    try {
      data = JSON.parse(payload);
    } catch {
      throw new SourceDataError(`topic "${topic}": expected JSON`, excerpt(payload, 120));
    }
  }
  const reading: Reading = device.channel === undefined ? {} : { channel: device.channel };
  for (const value of device.values) {
    const raw = device.format === 'number' ? payload.trim() : jsonPath(data, value.path!);
    if (raw === undefined || raw === null) continue; // this message does not carry it
    const amount = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(amount)) throw new SourceDataError(`topic "${topic}": ${value.path ?? 'the payload'}: expected a number`, excerpt(String(raw), 60));
    switch (value.reading) {
      case 'power':
        reading.power_w = value.unit === 'kW' ? amount * 1000 : amount;
        break;
      case 'voltage':
        reading.voltage = amount;
        break;
      case 'current':
        reading.current = value.unit === 'mA' ? amount / 1000 : amount;
        break;
      case 'energy_total':
        reading.energyTotalWh = toWh(amount, value.unit);
        break;
      case 'temperature':
        reading.temperatureC = value.unit === 'F' ? ((amount - 32) * 5) / 9 : amount;
        break;
      case 'humidity':
        reading.humidity = amount;
        break;
    }
  }
  return Object.keys(reading).some((k) => k !== 'channel') ? [reading] : [];
}
