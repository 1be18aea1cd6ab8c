/**
 * A real NUT server (Debian `nut-server`, 2.8.0 verified) fed by `dummy-ups` from `.dev`
 * dumps: one `dummy-ups` driver per UPS and `/lib/nut/upsd`, all in the foreground (`-F`)
 * with `NUT_CONFPATH`/`NUT_STATEPATH` in a temp dir. (`/usr/sbin/upsd` is a wrapper that
 * silently does nothing, hence the `/lib/nut` paths.)
 *
 * Learned by experiment:
 * - `port = /abs/path.dev` works, and a relative port is resolved against NUT_CONFPATH. We
 *   copy every dump into the conf dir anyway, so a test may rewrite it: dummy-ups re-reads a
 *   `.dev` file when its mtime changes (a `.seq` file would loop instead).
 * - upsd connects to a driver's socket (`$NUT_STATEPATH/dummy-ups-<name>`) at start and
 *   then only retries every few seconds, so drivers are started (and their sockets awaited)
 *   first. The driver publishes the dump a moment after upsd connects; until then
 *   `GET VAR` answers `ERR VAR-NOT-SUPPORTED`.
 * - dummy-ups replaces the dump's `driver.*` variables with its own (`driver.name` is
 *   `dummy-ups`); every other variable is served verbatim, as a string.
 * - A stopped driver gives `ERR DRIVER-NOT-CONNECTED`; a paused one (SIGSTOP) gives
 *   `ERR DATA-STALE` after upsd's MAXAGE (15 s, or `maxAge`).
 * - As root, both need `-u root` (otherwise they switch to user `nut`, which cannot read
 *   the private temp dir); as another user they simply run as that user.
 * - The PASSWORD command answers OK even when wrong; the check happens at SET/INSTCMD.
 */
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePorts } from './ports.ts';
import { launch, makeTempDir, removeDir, requireBinary, waitUntilReady, type ManagedProcess } from './process.ts';
import type { ServerHandle, StartOptions } from './servers.ts';

/** Options for {@link startNut}. */
export interface NutOptions extends StartOptions {
  /** Full `upsd.users` content; the default defines `admin`/`test-secret` with SET and all instcmds. */
  users?: string;
  /** upsd `MAXAGE` in seconds: how long without driver updates before `ERR DATA-STALE`. */
  maxAge?: number;
}

/** A running NUT server. */
export interface NutServer extends ServerHandle {
  /** `nut://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  /** The default user (only meaningful when `users` was not overridden). */
  username: string;
  password: string;
  /** The temp copy of a UPS's dump that its driver reads; rewriting it changes the values. */
  devPath(name: string): string;
  /** Stop one UPS's driver: upsd then answers `ERR DRIVER-NOT-CONNECTED` for it. */
  stopDriver(name: string): Promise<void>;
  /** (Re)start one UPS's driver and wait until upsd serves its variables again. */
  startDriver(name: string): Promise<void>;
  /** SIGSTOP one driver: its data turns `ERR DATA-STALE` after MAXAGE. */
  pauseDriver(name: string): void;
  /** SIGCONT a paused driver. */
  resumeDriver(name: string): void;
  /** Send protocol lines (LOGOUT is appended) and return the reply, minus `OK Goodbye`. */
  nutCommand(lines: string | string[]): Promise<string>;
}

const DEFAULT_USER = { username: 'admin', password: 'test-secret' };
const INSTALL = 'apt-get install -y nut-server';
const UPS_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Talk the NUT network protocol once: connect, send `lines` and `LOGOUT`, read until upsd
 * closes. Returns the reply without the final `OK Goodbye`.
 *
 * @example await nutCommand('127.0.0.1', port, 'GET VAR cp900 ups.load') // 'VAR cp900 ups.load "13"\n'
 */
export function nutCommand(host: string, port: number, lines: string | string[], timeoutMs = 5_000): Promise<string> {
  const request = [...(Array.isArray(lines) ? lines : [lines]), 'LOGOUT'].join('\n') + '\n';
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`NUT ${host}:${port}: no end of reply after ${timeoutMs} ms; got: ${Buffer.concat(chunks)}`));
    });
    socket.on('connect', () => socket.end(request));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8').replace(/OK Goodbye\n?$/, '')));
  });
}

/** Variable names a dump should show once served (dummy-ups replaces `driver.*`). */
async function expectedVariables(devFile: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const line of (await readFile(devFile, 'utf8')).split('\n')) {
    const match = /^([A-Za-z0-9_.-]+):\s/.exec(line);
    if (match?.[1] && !match[1].startsWith('driver.')) names.add(match[1]);
  }
  return names;
}

/** Names in a `LIST VAR` reply, or an empty set for an `ERR …` reply. */
function listedVariables(reply: string, ups: string): Set<string> {
  const names = new Set<string>();
  for (const line of reply.split('\n')) {
    const parts = line.split(' ');
    if (parts[0] === 'VAR' && parts[1] === ups && parts[2]) names.add(parts[2]);
  }
  return names;
}

/**
 * Start a NUT server serving one dummy UPS per entry of `devices` (UPS name → `.dev`
 * dump path, absolute or relative to the working directory). Ready when `LIST VAR <name>`
 * returns the dump's variables for every UPS.
 *
 * @example
 *   const nut = await startNut({ cp900: 'test/fixtures/nut/CyberPowerSystems_CP900EPFCLCD.dev' });
 *   await nut.nutCommand('GET VAR cp900 ups.load'); // 'VAR cp900 ups.load "13"\n'
 */
export async function startNut(devices: Record<string, string>, options: NutOptions = {}): Promise<NutServer> {
  const names = Object.keys(devices);
  if (names.length === 0) throw new Error('startNut: expected at least one UPS, got none');
  for (const name of names) {
    if (!UPS_NAME.test(name)) throw new Error(`startNut: UPS name must match ${UPS_NAME}, got "${name}"`);
  }
  const dummyUps = await requireBinary('/lib/nut/dummy-ups', INSTALL);
  const upsdBinary = await requireBinary('/lib/nut/upsd', INSTALL);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(devices, options, dummyUps, upsdBinary);
    } catch (error) {
      // Another process took the port between freePorts() and upsd's bind.
      if (attempt >= 3 || !/not listening|no listening interface|bind/i.test(String(error))) throw error;
    }
  }
}

/**
 * Create the conf and state dirs and write `ups.conf`, `upsd.conf`, `upsd.users`, with a
 * private copy of each dump. Returns UPS name → copied dump path.
 */
async function writeConfig(
  confDir: string,
  stateDir: string,
  devices: Record<string, string>,
  listen: string,
  options: NutOptions,
): Promise<Map<string, string>> {
  await mkdir(confDir, { mode: 0o700 });
  await mkdir(stateDir, { mode: 0o700 });
  const devPaths = new Map<string, string>();
  const upsConf: string[] = [];
  for (const [name, source] of Object.entries(devices)) {
    const copy = path.join(confDir, `${name}${path.extname(source) || '.dev'}`);
    await copyFile(path.resolve(source), copy).catch((error: Error) => {
      throw new Error(`startNut: cannot read the dump for UPS "${name}" at ${path.resolve(source)}: ${error.message}`);
    });
    devPaths.set(name, copy);
    upsConf.push(`[${name}]`, '  driver = dummy-ups', `  port = ${copy}`, `  desc = "homeflux test UPS ${name}"`, '');
  }
  // upsd warns about world-readable config files (they hold passwords).
  const writeConf = (file: string, text: string): Promise<void> =>
    writeFile(path.join(confDir, file), text, { mode: 0o600 });
  await writeConf('ups.conf', upsConf.join('\n'));
  await writeConf('upsd.conf', `${listen}\n${options.maxAge ? `MAXAGE ${options.maxAge}\n` : ''}`);
  await writeConf(
    'upsd.users',
    options.users ??
      `[${DEFAULT_USER.username}]\n  password = ${DEFAULT_USER.password}\n  actions = SET\n  instcmds = ALL\n`,
  );
  return devPaths;
}

async function startOnce(
  devices: Record<string, string>,
  options: NutOptions,
  dummyUps: string,
  upsdBinary: string,
): Promise<NutServer> {
  const dir = await makeTempDir('nut');
  const confDir = path.join(dir, 'conf');
  const stateDir = path.join(dir, 'state');
  const host = '127.0.0.1';
  const [port = 0] = await freePorts(1);
  const env = { ...process.env, NUT_CONFPATH: confDir, NUT_STATEPATH: stateDir };
  const asRoot = process.getuid?.() === 0 ? ['-u', 'root'] : [];

  const drivers = new Map<string, ManagedProcess>();
  let upsd: ManagedProcess | undefined;
  const all = (): ManagedProcess[] => [...drivers.values(), ...(upsd ? [upsd] : [])];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(all().map((proc) => proc.stop()));
      await removeDir(dir);
    })();
    return stopping;
  };

  let devPaths = new Map<string, string>();
  try {
    devPaths = await writeConfig(confDir, stateDir, devices, `LISTEN ${host} ${port}`, options);
  } catch (error) {
    await stop();
    throw error;
  }
  const command = (lines: string | string[]): Promise<string> => nutCommand(host, port, lines);
  const known = (name: string): void => {
    if (!devPaths.has(name)) throw new Error(`NUT: no UPS named "${name}"; known: ${[...devPaths.keys()].join(', ')}`);
  };

  const socketPath = (name: string): string => path.join(stateDir, `dummy-ups-${name}`);
  const launchDriver = async (name: string): Promise<void> => {
    await rm(socketPath(name), { force: true }); // a killed driver leaves its socket behind
    const proc = launch({
      name: `dummy-ups[${name}]`,
      command: dummyUps,
      args: ['-a', name, '-F', ...asRoot],
      env,
      cleanupDir: dir,
    });
    drivers.set(name, proc);
    await waitUntilReady({
      what: `dummy-ups for UPS "${name}" (socket ${socketPath(name)})`,
      processes: [proc],
      timeoutMs: options.timeoutMs,
      probe: async () => (await stat(socketPath(name))).isSocket(),
    });
  };
  const serving = async (name: string): Promise<void> => {
    const expected = await expectedVariables(devPaths.get(name) ?? '');
    let previous = '';
    let stableSince = Date.now();
    await waitUntilReady({
      what: `upsd on ${host}:${port} serving UPS "${name}" (LIST VAR ${name})`,
      processes: all().filter((proc) => proc.running()), // a driver stopped on purpose is no failure
      timeoutMs: options.timeoutMs,
      intervalMs: 200,
      probe: async () => {
        const listed = listedVariables(await command(`LIST VAR ${name}`), name);
        if ([...expected].every((variable) => listed.has(variable))) return true;
        // A dump line dummy-ups rejects must not hang the start: accept a stable, non-empty list.
        const key = [...listed].sort().join(',');
        if (key !== previous) [previous, stableSince] = [key, Date.now()];
        return listed.size > 0 && Date.now() - stableSince > 2_000;
      },
    });
  };

  try {
    for (const name of devPaths.keys()) await launchDriver(name);
    upsd = launch({ name: 'upsd', command: upsdBinary, args: ['-F', ...asRoot], env, cleanupDir: dir });
    for (const name of devPaths.keys()) await serving(name);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: `nut://${host}:${port}`,
    dir,
    host,
    port,
    ...DEFAULT_USER,
    stop,
    nutCommand: command,
    devPath: (name) => {
      known(name);
      return devPaths.get(name) ?? '';
    },
    stopDriver: async (name) => {
      known(name);
      await drivers.get(name)?.stop();
    },
    startDriver: async (name) => {
      known(name);
      if (drivers.get(name)?.running()) return;
      await launchDriver(name);
      await serving(name);
    },
    pauseDriver: (name) => {
      known(name);
      drivers.get(name)?.signal('SIGSTOP');
    },
    resumeDriver: (name) => {
      known(name);
      drivers.get(name)?.signal('SIGCONT');
    },
  };
}
