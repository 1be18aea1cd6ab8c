/**
 * MQTT messages of the preset device families → readings. Pure: topic and payload in, values
 * out, so each preset is tested from real payloads without a broker.
 *
 * Where each shape comes from (the devices' own documentation):
 * - Shelly Gen2+ (Plus/Pro/Gen3/Gen4): with "generic status update" on, the device publishes
 *   each component's status object on `<id>/status/<component>:<n>` — Shelly API docs,
 *   "MQTT" and the Switch / PM1 / EM / EMData / EM1 / EM1Data component pages. `switch` and `pm1`
 *   carry `apower` W, `voltage` V, `current` A and `aenergy.total` Wh (a counter since the
 *   device's last reboot); `em` carries `total_act_power` W and per-phase `a_voltage` …;
 *   `emdata` carries `total_act` Wh; `em1` carries `act_power`, `voltage`, `current`;
 *   `em1data` carries `total_act_energy` Wh.
 * - Shelly Gen1: `shellies/<id>/relay/<n>/power` (W, plain number) and `…/relay/<n>/energy`
 *   (a counter in watt-minutes, reset when the device reboots); the Shelly EM's
 *   `shellies/<id>/emeter/<n>/power`, `/voltage` and `/total` (Wh) — Shelly Gen1 API docs, "MQTT".
 * - Tasmota: `tele/<topic>/SENSOR` every TelePeriod, `{"Time":…,"ENERGY":{"Total":kWh,
 *   "Power":W,"Voltage":V,"Current":A,…}}`; multi-channel devices send arrays for the
 *   per-channel values (`"Power":[12,0]`) — Tasmota docs, "Power Monitoring" and "MQTT".
 * - Zigbee2MQTT: `zigbee2mqtt/<friendly name>` carries the device's state as one JSON object
 *   (`temperature` °C, `humidity` %, `power` W, `energy` kWh, `voltage`, `current`);
 *   `<name>/availability` (plain `online`/`offline` in older versions, `{"state":…}` in newer),
 *   `<name>/set|get` and `bridge/…` are not device state — Zigbee2MQTT docs, "MQTT topics and
 *   messages".
 */
import { excerpt, SourceDataError } from '../../errors.ts';

/** The preset families. */
export const PRESETS = ['shelly-gen2', 'shelly-gen1', 'tasmota', 'zigbee2mqtt'] as const;

/** A preset family's name. */
export type Preset = (typeof PRESETS)[number];

/** What one message says about one channel of a device; only what it carried is set. */
export interface Reading {
  /** The device's channel (`switch:0`, `relay:1`, `2`), when the family has several. */
  channel?: string;
  power_w?: number;
  voltage?: number;
  current?: number;
  /** A cumulative energy counter, in Wh (converted from the device's unit). */
  energyTotalWh?: number;
  temperatureC?: number;
  humidity?: number;
}

/** The topic filters to subscribe to for one device of a preset. */
export function subscriptions(preset: Preset, id: string): string[] {
  switch (preset) {
    case 'shelly-gen2':
      return [`${id}/status/+`];
    case 'shelly-gen1':
      return [`shellies/${id}/relay/+/+`, `shellies/${id}/emeter/+/+`];
    case 'tasmota':
      return [`tele/${id}/SENSOR`];
    case 'zigbee2mqtt':
      // `a/#` also matches `a` itself (MQTT 3.1.1 §4.7.1.2): the state and its subtopics, which are skipped below.
      return [`zigbee2mqtt/${id}/#`];
  }
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function json(topic: string, payload: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new SourceDataError(`topic "${topic}": expected a JSON object`, excerpt(payload, 120));
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SourceDataError(`topic "${topic}": expected a JSON object`, excerpt(payload, 120));
  return parsed as Record<string, unknown>;
}

function plainNumber(topic: string, payload: string): number {
  const value = Number(payload.trim());
  if (payload.trim() === '' || !Number.isFinite(value)) throw new SourceDataError(`topic "${topic}": expected a number`, excerpt(payload, 120));
  return value;
}

function shellyGen2(topic: string, payload: string, id: string): Reading[] {
  const component = topic.slice(`${id}/status/`.length);
  const m = /^(switch|pm1|em|emdata|em1|em1data):(\d+)$/.exec(component);
  if (!m) return []; // sys, wifi, input:0, … carry no measurements
  const [, kind, n] = m;
  const o = json(topic, payload);
  const aenergy = typeof o.aenergy === 'object' && o.aenergy !== null ? (o.aenergy as Record<string, unknown>) : {};
  switch (kind) {
    case 'switch':
    case 'pm1':
      return [{ channel: `${kind}:${n}`, power_w: num(o.apower), voltage: num(o.voltage), current: num(o.current), energyTotalWh: num(aenergy.total) }];
    case 'em':
      return [{ channel: `em:${n}`, power_w: num(o.total_act_power), voltage: num(o.a_voltage), current: num(o.total_current) }];
    case 'emdata':
      return [{ channel: `em:${n}`, energyTotalWh: num(o.total_act) }];
    case 'em1':
      return [{ channel: `em1:${n}`, power_w: num(o.act_power), voltage: num(o.voltage), current: num(o.current) }];
    default:
      return [{ channel: `em1:${n}`, energyTotalWh: num(o.total_act_energy) }];
  }
}

function shellyGen1(topic: string, payload: string, id: string): Reading[] {
  const m = /^(relay|emeter)\/(\d+)\/(power|energy|voltage|total)$/.exec(topic.slice(`shellies/${id}/`.length));
  if (!m) return []; // relay/0 ("on"/"off"), online, announce, …
  const [, kind, n, what] = m;
  const channel = `${kind}:${n}`;
  if (what === 'power') return [{ channel, power_w: plainNumber(topic, payload) }];
  if (what === 'voltage') return [{ channel, voltage: plainNumber(topic, payload) }];
  // relay energy is in watt-minutes; the emeter's `total` is Wh (its own `energy`, also W·min,
  // counts the same energy and is skipped so it is not counted twice).
  if (kind === 'relay' && what === 'energy') return [{ channel, energyTotalWh: plainNumber(topic, payload) / 60 }];
  if (kind === 'emeter' && what === 'total') return [{ channel, energyTotalWh: plainNumber(topic, payload) }];
  return [];
}

function tasmota(topic: string, payload: string): Reading[] {
  const o = json(topic, payload);
  const energy = o.ENERGY;
  if (typeof energy !== 'object' || energy === null) return []; // a SENSOR message of other sensors only
  const e = energy as Record<string, unknown>;
  const kwh = (v: unknown): number | undefined => (num(v) === undefined ? undefined : (v as number) * 1000);
  if (!Array.isArray(e.Power)) {
    return [{ power_w: num(e.Power), voltage: num(e.Voltage), current: num(e.Current), energyTotalWh: kwh(e.Total) }];
  }
  // Multi-channel: per-channel arrays; a scalar beside them is the device's (e.g. one Voltage).
  const at = (v: unknown, i: number): number | undefined => (Array.isArray(v) ? num(v[i]) : undefined);
  const scalar = (v: unknown): number | undefined => (Array.isArray(v) ? undefined : num(v));
  return e.Power.map((_, i) => ({
    channel: String(i + 1),
    power_w: at(e.Power, i),
    voltage: at(e.Voltage, i) ?? scalar(e.Voltage),
    current: at(e.Current, i),
    energyTotalWh: Array.isArray(e.Total) ? kwh(at(e.Total, i)) : undefined,
  }));
}

function zigbee2mqtt(topic: string, payload: string, id: string): Reading[] {
  if (topic !== `zigbee2mqtt/${id}`) return []; // availability, set, get: not device state
  const o = json(topic, payload);
  const kwh = num(o.energy);
  // A battery sensor's `voltage` is its battery in mV, not the mains: volts and amps are taken
  // only from devices that meter power (assumed from the exposes of Zigbee2MQTT's device pages).
  const metered = num(o.power) !== undefined || kwh !== undefined;
  const reading: Reading = {
    power_w: num(o.power),
    voltage: metered ? num(o.voltage) : undefined,
    current: metered ? num(o.current) : undefined,
    energyTotalWh: kwh === undefined ? undefined : kwh * 1000,
    temperatureC: num(o.temperature),
    humidity: num(o.humidity),
  };
  return Object.values(reading).some((v) => v !== undefined) ? [reading] : [];
}

/**
 * The readings of one message of a device of `preset` with id `id`; `[]` for a topic that
 * carries no measurements. Throws {@link SourceDataError} naming the topic for a payload that
 * is not what the family sends.
 */
export function parseMessage(preset: Preset, id: string, topic: string, payload: string): Reading[] {
  switch (preset) {
    case 'shelly-gen2':
      return shellyGen2(topic, payload, id);
    case 'shelly-gen1':
      return shellyGen1(topic, payload, id);
    case 'tasmota':
      return tasmota(topic, payload);
    case 'zigbee2mqtt':
      return zigbee2mqtt(topic, payload, id);
  }
}

/** Does `topic` match the MQTT filter `filter` (`+` one level, `#` the rest, including the parent)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
