/**
 * The connection to the MQTT broker (npm `mqtt`, MQTT 3.1.1): connect with the configured
 * credentials, subscribe to the devices' topics, hand every message on, and keep reconnecting
 * with a growing pause (1 s doubling to 30 s) when the broker goes away — the client library
 * resubscribes on reconnect (its `resubscribe` default).
 *
 * Errors, by what to do (src/errors.ts): a CONNACK refusing the credentials (return code 4
 * "bad user name or password" or 5 "not authorized", MQTT 3.1.1 §3.2.2.3) is an AuthError; a
 * broker that cannot be reached within the connect timeout is a TransientError naming the host
 * and the last socket error.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { AuthError, messageOf, TransientError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { MqttSettings } from './settings.ts';

/** A message as it arrived. */
export interface Message {
  topic: string;
  payload: string;
  /** Arrival time, Unix milliseconds (the machine's clock). */
  receivedMs: number;
  retained: boolean;
}

const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 30_000;

/** An open, subscribed connection. */
export class BrokerSession {
  private constructor(
    private readonly client: MqttClient,
    readonly where: string,
  ) {}

  /** Connect and subscribe to `filters`; every message goes to `onMessage` from then on. */
  static async open(settings: MqttSettings, options: { filters: string[]; log: Logger; onMessage: (message: Message) => void }): Promise<BrokerSession> {
    const url = new URL(settings.url);
    const where = `${url.protocol}//${url.host}`;
    const client = mqtt.connect(settings.url, {
      username: settings.username,
      password: settings.password,
      clientId: `homeflux-${randomBytes(4).toString('hex')}`,
      clean: true,
      connectTimeout: settings.connectTimeoutSeconds * 1000,
      reconnectPeriod: FIRST_PAUSE_MS,
      protocolVersion: 4,
    });
    const { log } = options;
    await new Promise<void>((resolve, reject) => {
      let lastError = 'no answer';
      const timer = setTimeout(() => {
        client.end(true);
        reject(new TransientError(`mqtt: cannot reach the broker at ${where} within ${settings.connectTimeoutSeconds} s (${lastError})`));
      }, settings.connectTimeoutSeconds * 1000);
      const onError = (error: Error & { code?: number | string }): void => {
        if (error.code === 4 || error.code === 5) {
          clearTimeout(timer);
          client.end(true);
          reject(new AuthError(`mqtt: the broker at ${where} refused the login${settings.username === undefined ? ' (no MQTT_USERNAME set)' : ' of MQTT_USERNAME'}: ${error.code === 4 ? 'bad user name or password' : 'not authorized'}`));
          return;
        }
        lastError = messageOf(error);
      };
      client.on('error', onError);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    // From here on the library reconnects by itself; only say so, with a growing pause.
    let lost = false;
    client.on('close', () => {
      if (client.disconnecting || client.disconnected) return; // our own close()
      if (!lost) log.warn(`mqtt: lost the connection to ${where}; reconnecting (samples already received are kept)`);
      lost = true;
      client.options.reconnectPeriod = Math.min(LONGEST_PAUSE_MS, (client.options.reconnectPeriod ?? FIRST_PAUSE_MS) * 2);
    });
    client.on('connect', () => {
      if (lost) log.info(`mqtt: reconnected to ${where}`);
      lost = false;
      client.options.reconnectPeriod = FIRST_PAUSE_MS;
    });
    client.on('message', (topic, payload, packet) => options.onMessage({ topic, payload: payload.toString('utf8'), receivedMs: Date.now(), retained: packet.retain }));
    const granted = await client.subscribeAsync(options.filters.map((topic) => ({ topic, qos: 1 as const })).reduce<Record<string, { qos: 1 }>>((all, s) => ({ ...all, [s.topic]: { qos: s.qos } }), {}));
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) log.warn(`mqtt: the broker refused the subscription to ${refused.join(', ')} (check its ACL)`);
    return new BrokerSession(client, where);
  }

  /** Disconnect. */
  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
