/**
 * One sample of one upsd: connect, authenticate when configured, read every UPS asked for
 * with `LIST VAR`, log out. A UPS that fails (stale, driver stopped, unknown name) does not
 * spoil the others on the same server; a server that fails (refused, silent, wrong password)
 * gives one error for that server only.
 */
import { messageOf } from '../../errors.ts';
import { NutClient } from './client.ts';
import { NutError, NutTransientError } from './errors.ts';
import { upsReading, type UpsReading } from './parse.ts';
import type { NutHost, NutSettings } from './settings.ts';

/** What one UPS reported. */
export interface UpsSample {
  /** The NUT_HOSTS entry name (the `location` tag). */
  location: string;
  /** The UPS name on that server (the `ups` tag). */
  ups: string;
  reading: UpsReading;
}

/** A sample failure, with the NUT error (and its token) as `cause`. */
export class SampleError extends Error {
  override name = 'SampleError';
}

/**
 * The reading of one UPS's variables, or a {@link SampleError} when it publishes none of the
 * variables homeflux reads — which would otherwise make a record without fields (found by
 * test/hardening/fuzz-nut.test.ts).
 */
export function checkedReading(vars: ReadonlyMap<string, string>, powerFactor: number): UpsReading | SampleError {
  const reading = upsReading(vars, powerFactor);
  const { power_method: _method, ...values } = reading;
  if (Object.values(values).some((value) => value !== undefined)) return reading;
  const names = [...vars.keys()];
  return new SampleError(
    `none of ups.load, ups.realpower, battery.charge, input.voltage, ups.status is published (it has ${names.length} variable(s)${names.length ? `: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}` : ''})`,
  );
}

/** Samples and failures of one server. */
export interface HostSample {
  samples: UpsSample[];
  errors: SampleError[];
}

/** Options for {@link sampleHost}. */
export interface SampleOptions {
  settings: NutSettings;
  signal?: AbortSignal;
}

/** Sample every UPS of one NUT_HOSTS entry. Never throws: failures come back in `errors`. */
export async function sampleHost(host: NutHost, options: SampleOptions): Promise<HostSample> {
  const { settings } = options;
  const result: HostSample = { samples: [], errors: [] };
  const fail = (what: string, message: string, cause?: unknown): void => {
    result.errors.push(new SampleError(`${host.name}: ${what}${message}`, { cause }));
  };
  let client: NutClient;
  try {
    client = await NutClient.connect({
      host: host.host,
      port: host.port ?? settings.port,
      connectTimeoutMs: settings.connectTimeoutSeconds * 1000,
      readTimeoutMs: settings.readTimeoutSeconds * 1000,
      signal: options.signal,
    });
  } catch (error) {
    fail('', messageOf(error), error);
    return result;
  }
  try {
    const wanted = host.ups ?? settings.upsName;
    let names: string[];
    let listed: Map<string, string> | undefined;
    if (settings.username !== undefined && settings.password !== undefined) {
      await client.authenticate(settings.username, settings.password);
    }
    if (wanted === '*') {
      listed = await client.listUps();
      names = [...listed.keys()].sort();
      if (names.length === 0) {
        fail('', `upsd ${client.server}: NUT_UPS_NAME is "*" but LIST UPS lists no UPS`);
        return result;
      }
    } else {
      names = wanted;
    }
    // upsd checks a password only when it is used; LOGIN is the one read-side use, so a wrong
    // password is reported here instead of being silently ignored (NUT_VERIFY_LOGIN=false skips it).
    if (settings.username !== undefined && (settings.verifyLogin ?? true)) await client.login(names[0]!);
    for (const ups of names) {
      try {
        const reading = checkedReading(await client.listVars(ups), settings.powerFactor);
        if (reading instanceof SampleError) {
          fail(`UPS "${ups}": `, reading.message);
          continue;
        }
        result.samples.push({ location: host.name, ups, reading });
      } catch (error) {
        // A token about this UPS (unknown, stale, driver stopped) spoils only this UPS; the
        // connection or the credentials failing spoil the rest of the server.
        const perUps = error instanceof NutError || (error instanceof NutTransientError && error.token !== undefined);
        if (!perUps) throw error;
        let hint = '';
        if (error.token === 'UNKNOWN-UPS') {
          listed ??= await client.listUps().catch(() => undefined);
          if (listed) hint = `; it lists: ${[...listed.keys()].sort().join(', ') || 'no UPS at all'} (set NUT_UPS_NAME, or name=ups@host in NUT_HOSTS)`;
        }
        fail(`UPS "${ups}": `, `${error.message}${hint}`, error);
      }
    }
  } catch (error) {
    // Samples already taken from this server are kept.
    fail('', messageOf(error), error);
  } finally {
    await client.logout();
  }
  return result;
}
