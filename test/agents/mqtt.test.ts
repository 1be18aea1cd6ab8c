/**
 * The mqtt agent: each preset's parser on real device messages (test/fixtures/mqtt, see
 * SOURCES.md), the counters' hour arithmetic, and the agent end to end against a real
 * Mosquitto broker started here (messages published with `mosquitto_pub`), records landing in
 * the file store. Expected values are worked out by hand from the fixtures in the comments.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttAgent } from '../../src/agents/mqtt/index.ts';
import { CounterState, splitByHour } from '../../src/counters.ts';
import { parseMessage, type Preset, topicMatches } from '../../src/agents/mqtt/parse.ts';
import { parseDevices } from '../../src/agents/mqtt/settings.ts';
import { readBucketFile } from '../../src/database/file-store.ts';
import { decodePoint } from '../../src/lineprotocol.ts';
import { type MosquittoServer, startMosquitto } from '../../testing/helpers/mosquitto.ts';
import { runCaptured, tempHome } from '../../testing/helpers/run-agent.ts';

interface FixtureMessage {
  name: string;
  preset: Preset;
  id: string;
  topic: string;
  payload: string;
}
const FIXTURES = JSON.parse(await readFile('test/fixtures/mqtt/messages.json', 'utf8')) as FixtureMessage[];
const fixture = (name: string): FixtureMessage => FIXTURES.find((f) => f.name === name)!;
const parsed = (name: string): unknown => {
  const f = fixture(name);
  return parseMessage(f.preset, f.id, f.topic, f.payload);
};
const UTC = { timezone: 'UTC', weekStart: 'monday' as const };

describe('mqtt presets', () => {
  it('Shelly Gen2: switch status → W, V, A and the aenergy counter in Wh', () => {
    expect(parsed('shelly-gen2-1pm-mini')).toEqual([{ channel: 'switch:0', power_w: 25.7, voltage: 239.7, current: 0.188, energyTotalWh: 913.252 }]);
    expect(parsed('shelly-gen2-plug-us')).toEqual([{ channel: 'switch:0', power_w: 10.7, voltage: 120.7, current: 0.133, energyTotalWh: 46791.262 }]);
    expect(parseMessage('shelly-gen2', 'x', 'x/status/sys', '{"uptime":5}')).toEqual([]);
  });

  it('Shelly Gen1: power in W, the energy counter in watt-minutes → Wh', () => {
    expect(parsed('shelly-gen1-power')).toEqual([{ channel: 'relay:0', power_w: 48.12 }]);
    // 1,523,451 W·min / 60 = 25,390.85 Wh
    expect((parsed('shelly-gen1-energy') as Array<{ energyTotalWh: number }>)[0]!.energyTotalWh).toBeCloseTo(25390.85, 9);
    expect(parseMessage('shelly-gen1', 'p', 'shellies/p/relay/0', 'on')).toEqual([]);
  });

  it('Tasmota: ENERGY in W, V, A and Total kWh → Wh; arrays are channels 1…n', () => {
    expect(parsed('tasmota-single')).toEqual([{ power_w: 63, voltage: 121, current: 0.645, energyTotalWh: 412318 }]);
    expect(parsed('tasmota-two-channels')).toEqual([
      { channel: '1', power_w: 120, voltage: 230, current: 0.57, energyTotalWh: 3215 },
      { channel: '2', power_w: 0, voltage: 230, current: 0, energyTotalWh: 1002 },
    ]);
  });

  it('Zigbee2MQTT: climate in °C and %, a battery sensor’s mV not taken as volts; plug energy kWh → Wh; availability ignored', () => {
    expect(parsed('zigbee2mqtt-climate')).toEqual([{ temperatureC: 23.5, humidity: 45.2 }]);
    expect(parsed('zigbee2mqtt-plug')).toEqual([{ power_w: 12.5, voltage: 230, current: 0.05, energyTotalWh: 1230 }]);
    expect(parsed('zigbee2mqtt-availability')).toEqual([]);
  });

  it('a payload that is not what the family sends names the topic', () => {
    expect(() => parseMessage('tasmota', 't', 'tele/t/SENSOR', '{"ENERGY":')).toThrow(/topic "tele\/t\/SENSOR": expected a JSON object; received: \{"ENERGY":/);
    expect(() => parseMessage('shelly-gen1', 'p', 'shellies/p/relay/0/power', 'n/a')).toThrow(/topic "shellies\/p\/relay\/0\/power": expected a number/);
  });

  it('topic filters match as MQTT does', () => {
    expect(topicMatches('zigbee2mqtt/a/#', 'zigbee2mqtt/a')).toBe(true);
    expect(topicMatches('zigbee2mqtt/a/#', 'zigbee2mqtt/a/availability')).toBe(true);
    expect(topicMatches('x/status/+', 'x/status/switch:0')).toBe(true);
    expect(topicMatches('x/status/+', 'x/status/a/b')).toBe(false);
    expect(topicMatches('tele/t/SENSOR', 'tele/t/STATE')).toBe(false);
  });

  it('MQTT_DEVICES entries', () => {
    expect(parseDevices('shelly-gen2:shellyplus1pm-a8=desk, tasmota:tasmota_F97904=tv')).toEqual([
      { preset: 'shelly-gen2', id: 'shellyplus1pm-a8', location: 'desk' },
      { preset: 'tasmota', id: 'tasmota_F97904', location: 'tv' },
    ]);
    expect(parseDevices('hue:x=y')).toMatch(/unknown preset "hue"/);
    expect(parseDevices('tasmota:a/#=y')).toMatch(/may not contain "#"/);
  });
});

describe('mqtt energy counters', () => {
  const T = Date.UTC(2026, 6, 1, 10, 0, 0) / 1000; // 10:00 UTC

  it('splits an interval across hours in proportion to time, in whole mWh', () => {
    // 10:45 → 11:15, 1,000 mWh: 15 min in each hour → 500 + 500.
    expect(splitByHour(1000, T + 2700, T + 4500, UTC)).toEqual([[T, 500], [T + 3600, 500]]);
    // 10:50 → 12:10, 1,000 mWh over 80 min: 10/80 → 125, 60/80 → 750, the rest 125.
    expect(splitByHour(1000, T + 3000, T + 7800, UTC)).toEqual([[T, 125], [T + 3600, 750], [T + 7200, 125]]);
  });

  it('a counter reset mid-hour: the energy since the reset, never negative; repeats add nothing', async () => {
    const state = await CounterState.load('/nonexistent/mqtt-state.json');
    state.add('k', T + 60, 1000, UTC); // base
    state.add('k', T + 120, 1500, UTC); // +500
    state.add('k', T + 120, 1500, UTC); // the same reading again: nothing
    state.add('k', T + 180, 20, UTC); // rebooted: +20
    state.add('k', T + 240, 50, UTC); // +30
    expect(state.takeTouched('k')).toEqual([{ hour: T, meanWatts: 550, samples: 3 }]);
    expect(state.takeTouched('k')).toEqual([]);
  });

  it('a reset across an hour boundary counts in the hour of the reading after it (a daily counter’s midnight)', async () => {
    const state = await CounterState.load('/nonexistent/mqtt-state.json');
    state.add('k', T + 3480, 100, UTC); // 10:58, base
    state.add('k', T + 3720, 5, UTC); // 11:02, restarted: 5 since the restart, all in 11:00
    expect(state.takeTouched('k')).toEqual([{ hour: T + 3600, meanWatts: 5, samples: 1 }]);
  });
});

describe('mqtt agent against a real Mosquitto broker', () => {
  let broker: MosquittoServer;
  beforeAll(async () => {
    broker = await startMosquitto();
  }, 60_000);
  afterAll(async () => {
    await broker?.stop();
  });

  const env = (home: { env: Record<string, string> }, devices: string, extra: Record<string, string> = {}): Record<string, string> => ({
    ...home.env,
    MQTT_URL: broker.url,
    MQTT_USERNAME: broker.username,
    MQTT_PASSWORD: broker.password,
    MQTT_DEVICES: devices,
    MQTT_LISTEN: '1',
    ...extra,
  });
  const NOW = Date.UTC(2026, 6, 1, 10, 20, 0) / 1000;

  it('one-shot: the retained messages of every preset become exact records', async () => {
    for (const f of FIXTURES) await broker.publish(f.topic, f.payload, { retain: true });
    const home = await tempHome('mqtt-presets');
    const devices = [
      'shelly-gen2:shelly1pmminig3-48f6ee8d12dc=mini',
      'shelly-gen1:shellyplug-s-7AD4E1=plug_s',
      'tasmota:tasmota_F97904=tv',
      'tasmota:tasmota_2CH=two',
      'zigbee2mqtt:living_room=living',
      'zigbee2mqtt:dryer_plug=dryer',
    ].join(',');
    const run = await runCaptured(mqttAgent, [], env(home, devices), { now: NOW });
    expect(run.code, run.all).toBe(0);
    const points = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).map((l) => decodePoint(l, 'store'));
    const got = Object.fromEntries(points.map((p) => [`${p.measurement}/${p.tags.location}/${p.tags.channel ?? '-'}`, { ...p.fields, time: p.time }]));
    // Values by hand from the fixtures (see the preset tests); every sample at the run's time.
    expect(got).toEqual({
      'plug/mini/switch:0': { power_w: 25.7, voltage: 239.7, current: 0.188, energy_total_wh: 913.252, time: NOW },
      'plug/plug_s/relay:0': { power_w: 48.12, energy_total_wh: 25390.85, time: NOW },
      'plug/tv/-': { power_w: 63, voltage: 121, current: 0.645, energy_total_wh: 412318, time: NOW },
      'plug/two/1': { power_w: 120, voltage: 230, current: 0.57, energy_total_wh: 3215, time: NOW },
      'plug/two/2': { power_w: 0, voltage: 230, current: 0, energy_total_wh: 1002, time: NOW },
      // 23.5 °C = 23.5 × 9/5 + 32 = 74.3 °F (HOMEFLUX_UNITS defaults to imperial)
      'temperature/living/-': { temperature: 74.3, time: NOW },
      'humidity/living/-': { humidity: 45.2, time: NOW },
      'plug/dryer/-': { power_w: 12.5, voltage: 230, current: 0.05, energy_total_wh: 1230, time: NOW },
    });
    // A counter's first reading only sets its base: no hour energy yet.
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).toEqual([]);
    // The same retained counters an hour later are not new readings (published at an unknown
    // earlier time): still no hour energy, rather than 0 Wh spread over the hour between.
    const again = await runCaptured(mqttAgent, [], env(home, devices), { now: NOW + 3600 });
    expect(again.code, again.all).toBe(0);
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-hour')).toEqual([]);
    for (const f of FIXTURES) await broker.publish(f.topic, '', { retain: true }); // clear retained
  }, 30_000);

  it('a counter reset mid-hour gives the right hour, day and week, carried to the next run', async () => {
    const home = await tempHome('mqtt-reset');
    const topic = 'plug-reset/status/switch:0';
    const e = env(home, 'shelly-gen2:plug-reset=kettle', { MQTT_LISTEN: '7' });
    const running = runCaptured(mqttAgent, [], e, { now: NOW });
    await new Promise((r) => setTimeout(r, 1200));
    // 1000 (base) → 1500: +500; reboot → 20: +20; → 50: +30. The hour: 550 Wh from 3 readings.
    for (const total of [1000, 1500, 20, 50]) {
      await broker.publish(topic, JSON.stringify({ id: 0, apower: 100, aenergy: { total } }));
      await new Promise((r) => setTimeout(r, 1100)); // a second apart: each a later reading
    }
    const run = await running;
    expect(run.code, run.all).toBe(0);
    const energy = async (bucket: string): Promise<number[]> => (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, bucket)).map((l) => decodePoint(l, bucket).fields.power_usage!);
    expect(await energy('home-hour')).toEqual([550]);
    expect(await energy('home-day')).toEqual([550]);
    expect(await energy('home-week')).toEqual([550]);
    // The next run (a minute later) continues from the kept counter: 50 → 80 is +30 → 580.
    const next = runCaptured(mqttAgent, [], { ...e, MQTT_LISTEN: '2' }, { now: NOW + 60 });
    await new Promise((r) => setTimeout(r, 800));
    await broker.publish(topic, JSON.stringify({ id: 0, apower: 100, aenergy: { total: 80 } }));
    expect((await next).code).toBe(0);
    expect(await energy('home-hour')).toEqual([580]);
    expect(await energy('home-week')).toEqual([580]);
  }, 30_000);

  it('malformed JSON on one topic is one line naming it; the other devices are written', async () => {
    const home = await tempHome('mqtt-bad');
    await broker.publish('tele/tasmota_BAD/SENSOR', '{"ENERGY":{"Power":', { retain: true });
    await broker.publish('zigbee2mqtt/good_plug', fixture('zigbee2mqtt-plug').payload, { retain: true });
    const run = await runCaptured(mqttAgent, [], env(home, 'tasmota:tasmota_BAD=bad,zigbee2mqtt:good_plug=good'), { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all.split('\n').filter((l) => l.includes('tele/tasmota_BAD/SENSOR'))).toHaveLength(1);
    expect(run.all).toMatch(/mqtt: bad: topic "tele\/tasmota_BAD\/SENSOR": expected a JSON object/);
    const lines = await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute');
    expect(lines.map((l) => decodePoint(l, 'store').tags.location)).toEqual(['good']);
    await broker.publish('tele/tasmota_BAD/SENSOR', '', { retain: true });
    await broker.publish('zigbee2mqtt/good_plug', '', { retain: true });
  }, 30_000);

  it('wrong credentials exit 1 with one clear line and no password', async () => {
    const home = await tempHome('mqtt-auth');
    const run = await runCaptured(mqttAgent, [], env(home, 'tasmota:x=y', { MQTT_PASSWORD: 'wrong-secret-123' }), { now: NOW });
    expect(run.code).toBe(1);
    expect(run.all).toMatch(/mqtt: the broker at mqtt:\/\/127\.0\.0\.1:\d+ refused the login of MQTT_USERNAME: (not authorized|bad user name or password)/);
    expect(run.all).not.toContain('wrong-secret-123');
    expect(run.all).not.toContain(broker.password);
  }, 30_000);

  it('one-shot with no device online ends within its listen window and writes nothing', async () => {
    const home = await tempHome('mqtt-quiet');
    const started = Date.now();
    const run = await runCaptured(mqttAgent, [], env(home, 'shelly-gen2:nobody-home=none', { MQTT_LISTEN: '2' }), { now: NOW });
    const seconds = (Date.now() - started) / 1000;
    expect(run.code, run.all).toBe(0);
    // The bound: the listen window plus connecting (loopback) — generous for a loaded machine.
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(seconds).toBeLessThan(2 + 8);
    expect(await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).toEqual([]);
  }, 30_000);

  it('MQTT_MAPPING: devices outside the presets, by path and unit (examples/mqtt/mapping.yaml)', async () => {
    const home = await tempHome('mqtt-mapping');
    // By hand: 1532.21 kWh = 1,532,210 Wh; 68 °F = 20 °C = 68 °F again in the imperial store.
    await broker.publish('home/energy/sensor', '{"V1": 121.3, "I1": 2.41, "P1": 289.5, "E1": 1532.21}', { retain: true });
    await broker.publish('garage/temperature', '68', { retain: true });
    const e = { ...env(home, ''), MQTT_DEVICES: '', MQTT_MAPPING: 'examples/mqtt/mapping.yaml' };
    const run = await runCaptured(mqttAgent, [], e, { now: NOW });
    expect(run.code, run.all).toBe(0);
    const points = (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).map((l) => decodePoint(l, 'store'));
    expect(Object.fromEntries(points.map((p) => [`${p.measurement}/${p.tags.location}`, p.fields]))).toEqual({
      'plug/main_panel': { voltage: 121.3, current: 2.41, power_w: 289.5, energy_total_wh: 1532210 },
      'temperature/garage': { temperature: 68 },
    });
    await broker.publish('home/energy/sensor', '', { retain: true });
    await broker.publish('garage/temperature', '', { retain: true });
    // A mapping file with a JSON device missing a path refuses to start, naming the file and entry.
    const { writeFile } = await import('node:fs/promises');
    const bad = `${home.dir}/bad.yaml`;
    await writeFile(bad, 'devices:\n  - topic: a/b\n    location: x\n    values: [{ reading: power }]\n');
    const refused = await runCaptured(mqttAgent, [], { ...e, MQTT_MAPPING: bad }, { now: NOW });
    expect(refused.code).toBe(2);
    expect(refused.all).toContain(`MQTT_MAPPING: ${bad}: devices.0: a JSON payload needs a "path" for every value`);
  }, 30_000);

  it('--watch: the broker killed and restarted mid-watch loses no sample that arrived', async () => {
    const home = await tempHome('mqtt-watch');
    const child = spawn('node_modules/.bin/tsx', ['scripts/mqtt.ts', '--watch', '--interval', '1s'], {
      env: { ...process.env, ...env(home, 'zigbee2mqtt:watch_plug=watched'), INFLUX_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const powers = async (): Promise<number[]> =>
      (await readBucketFile(home.env.HOMEFLUX_DATA_DIR, 'home-minute')).map((l) => decodePoint(l, 'store').fields.power_w!);
    const waitFor = async (what: () => Promise<boolean>, label: string): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (!(await what())) {
        if (Date.now() > deadline) throw new Error(`${label}; output:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await waitFor(async () => output.includes('subscribed at'), 'the watcher did not subscribe');
    await broker.publish('zigbee2mqtt/watch_plug', JSON.stringify({ power: 11 }));
    await waitFor(async () => (await powers()).includes(11), 'the first sample was not written');
    await broker.kill();
    await waitFor(async () => output.includes('lost the connection'), 'the watcher did not notice the broker going away');
    await broker.restart();
    await waitFor(async () => output.includes('reconnected'), 'the watcher did not reconnect');
    await broker.publish('zigbee2mqtt/watch_plug', JSON.stringify({ power: 22 }));
    await waitFor(async () => (await powers()).includes(22), 'the sample after the restart was not written');
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(new Set(await powers())).toEqual(new Set([11, 22]));
  }, 90_000);
});
