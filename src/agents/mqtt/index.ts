/**
 * `mqtt`: devices publishing to an MQTT broker — Shelly Gen1 and Gen2+, Tasmota, Zigbee2MQTT —
 * by preset, with no mapping to write.
 *
 * The agent subscribes once and keeps every message's values as they arrive. Each collect
 * (one per `--watch` interval, or the single one of a one-shot run after its listen window)
 * writes the latest values of every device heard since the previous collect as one `plug`
 * sample (and `temperature`/`humidity` samples) at the sample time, and the `power` energy of
 * every hour that the devices' energy counters moved in, with its local day and week
 * (counters.ts keeps the counters between runs in a state file).
 *
 * A message that is not what its family sends is one problem naming the topic; the other
 * devices are written. Scripts: `scripts/mqtt.ts` (one-shot, or `--watch`); see README.md.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../../config.ts';
import { hourDayWeekRecords } from '../../hour-energy.ts';
import { type DataRecord, humidityRecord, plugRecord, temperatureRecord } from '../../records.ts';
import type { LocalRules, TimeWindow } from '../../window.ts';
import { type Agent, type AgentModule, type CollectContext, samplingLimits } from '../agent.ts';
import { BrokerSession, type Message } from './client.ts';
import { CounterState } from '../../counters.ts';
import { parseMapped, loadMapping } from './mapping.ts';
import { parseMessage, type Reading, subscriptions, topicMatches } from './parse.ts';
import { type MqttDevice, mqttFromEnv, type MqttSettings, mqttSettings, stateFilePath } from './settings.ts';

export { mqttSettings, type MqttSettings } from './settings.ts';

/** `source` tag of every mqtt record. */
export const MQTT_SOURCE = 'homeflux.mqtt';

/** Problems kept between collects at most (a device spamming bad payloads must not grow memory). */
const MAX_PENDING_PROBLEMS = 50;

/** The `channel` tag of a device with several channels. */
const channelTags = (entry: { channel?: string }): { [key: string]: string } => (entry.channel === undefined ? {} : { channel: entry.channel });

/** A device to listen to: its topic filters and how to read its messages. */
interface Route {
  location: string;
  filters: string[];
  parse(topic: string, payload: string): Reading[];
}

interface Latest {
  location: string;
  channel?: string;
  values: Omit<Reading, 'channel'>;
  fresh: boolean;
}

/** Build the mqtt agent. */
export function createMqttAgent(settings: MqttSettings, config: Config): Agent {
  const rules: LocalRules = { timezone: config.timezone, weekStart: config.weekStart };
  const stateFile = stateFilePath(settings);
  const routes: Route[] = [
    ...settings.devices.map((device: MqttDevice) => ({ location: device.location, filters: subscriptions(device.preset, device.id), parse: (topic: string, payload: string) => parseMessage(device.preset, device.id, topic, payload) })),
    ...(settings.mapping === undefined ? [] : loadMapping(settings.mapping)).map((device) => ({ location: device.location, filters: [device.topic], parse: (topic: string, payload: string) => parseMapped(device, topic, payload) })),
  ];
  const latest = new Map<string, Latest>();
  const problems: Error[] = [];
  let dropped = 0;
  let session: BrokerSession | undefined;
  let state: CounterState | undefined;
  let offset = 0;

  const onMessage = (message: Message): void => {
    const time = Math.floor(message.receivedMs / 1000) + offset;
    for (const { location, filters, parse } of routes) {
      if (!filters.some((f) => topicMatches(f, message.topic))) continue;
      let readings: Reading[];
      try {
        readings = parse(message.topic, message.payload);
      } catch (error) {
        if (problems.length < MAX_PENDING_PROBLEMS) problems.push(new Error(`${location}: ${(error as Error).message}`));
        else dropped++;
        continue;
      }
      for (const { channel, ...values } of readings) {
        const key = `${location}/${channel ?? '-'}`;
        const entry = latest.get(key) ?? { location, channel, values: {}, fresh: false };
        for (const [name, value] of Object.entries(values)) if (value !== undefined) (entry.values as Record<string, number>)[name] = value;
        entry.fresh = true;
        latest.set(key, entry);
        // A retained message was published at an unknown earlier time: it may start a counter
        // (its base), but counting it as a reading taken now would misplace energy in time.
        if (values.energyTotalWh !== undefined && state !== undefined && !(message.retained && state.has(key))) state.add(key, time, values.energyTotalWh, rules);
      }
    }
  };

  return {
    name: 'mqtt',
    async collect(window: TimeWindow, context: CollectContext): Promise<DataRecord[]> {
      context.log.mask(settings.password);
      if (session === undefined) {
        offset = context.now - Math.floor(Date.now() / 1000);
        state = await CounterState.load(stateFile);
        if (state.warning) context.log.warn(`mqtt: ${state.warning}`);
        session = await BrokerSession.open(settings, { filters: [...new Set(routes.flatMap((r) => r.filters))], log: context.log, onMessage });
        context.log.info(`mqtt: subscribed at ${session.where} for ${routes.length} device(s)`);
        await delay(settings.listenSeconds * 1000, undefined, { signal: context.signal }).catch(() => {});
      }
      for (const problem of problems.splice(0)) context.problem(problem);
      if (dropped > 0) context.problem(new Error(`${dropped} more bad message(s) since the last sample, not listed`));
      dropped = 0;

      const time = window.end;
      const records: DataRecord[] = [];
      for (const entry of latest.values()) {
        if (!entry.fresh) continue;
        entry.fresh = false;
        const base = { source: MQTT_SOURCE, location: entry.location, time, timescale: 'minute' as const };
        const tags = channelTags(entry);
        const { power_w, voltage, current, energyTotalWh, temperatureC, humidity } = entry.values;
        if ([power_w, voltage, current, energyTotalWh].some((v) => v !== undefined)) {
          const energy_total_wh = energyTotalWh === undefined ? undefined : Math.round(energyTotalWh * 1000) / 1000;
          records.push(plugRecord({ ...base, tags }, { power_w, voltage, current, energy_total_wh }));
        }
        if (temperatureC !== undefined) {
          const record = temperatureRecord({ ...base, tags }, { value: temperatureC, unit: 'C', units: config.units });
          // 23.5 °C is 74.30000000000001 °F in floating point; sensors resolve 0.01 ° at best.
          record.fields.temperature = Math.round((record.fields.temperature as number) * 1000) / 1000;
          records.push(record);
        }
        if (humidity !== undefined) records.push(humidityRecord({ ...base, tags }, humidity));
      }
      if (state !== undefined) {
        for (const key of state.touchedKeys()) {
          const entry = latest.get(key)!;
          const tags = channelTags(entry);
          records.push(...hourDayWeekRecords(state, key, state.takeTouched(key), { series: { source: MQTT_SOURCE, location: entry.location, tags }, rules }));
        }
        state.prune(context.now, rules);
        if (!context.dryRun) await state.save(stateFile);
      }
      return records;
    },
    async close() {
      await session?.close();
      session = undefined;
    },
  };
}

/** The mqtt agent module. */
export const mqttAgent: AgentModule<MqttSettings> = {
  name: 'mqtt',
  description: 'Shelly, Tasmota and Zigbee2MQTT devices through an MQTT broker: watts, volts, amps, temperature, humidity, hourly energy from their counters; one listen window per run, or --watch.',
  requires: [['MQTT_URL'], ['MQTT_DEVICES', 'MQTT_MAPPING']],
  settings: mqttSettings,
  fromEnv: (env) => mqttFromEnv(env),
  create: (settings, config) => createMqttAgent(settings, config),
  sampling: { defaultIntervalSeconds: 60 },
  // Hour, day and week energy come from the counters' state (src/counters.ts).
  limits: samplingLimits,
};
