/**
 * A real MQTT broker (Debian `mosquitto`, 2.0 verified) on a free loopback port, with a password
 * file and no anonymous access, plus `mosquitto_pub` (Debian `mosquitto-clients`) to publish.
 *
 * Learned by experiment / from mosquitto.conf(5):
 * - started as root, mosquitto switches to the user named by `user` (default `mosquitto`), which
 *   cannot read our private temp dir; `user root` keeps it as root;
 * - `mosquitto_passwd -b -c FILE USER PASS` writes a hashed password file non-interactively;
 * - with `persistence false` a restart forgets retained messages, which the broker-restart
 *   test relies on being irrelevant (a watcher keeps what already arrived).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { launch, makeTempDir, removeDir, requireBinary, waitUntilReady, type ManagedProcess } from './process.ts';
import type { ServerHandle, StartOptions } from './servers.ts';

const run = promisify(execFile);
const INSTALL = 'apt-get install -y mosquitto mosquitto-clients';

/** A running broker. */
export interface MosquittoServer extends ServerHandle {
  /** `mqtt://127.0.0.1:PORT` */
  url: string;
  port: number;
  username: string;
  password: string;
  /** Publish one message with `mosquitto_pub` (QoS 1; `retain` sets the retain flag). */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
  /** Kill the broker (SIGKILL) — clients see the connection drop. */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Start mosquitto with one user (default `homeflux` with a random password). */
export async function startMosquitto(options: StartOptions & { username?: string; password?: string } = {}): Promise<MosquittoServer> {
  const broker = await requireBinary('/usr/sbin/mosquitto', INSTALL);
  const pub = await requireBinary('mosquitto_pub', INSTALL);
  const passwd = await requireBinary('mosquitto_passwd', INSTALL);
  const dir = await makeTempDir('mosquitto');
  const port = await freePort();
  const username = options.username ?? 'homeflux';
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}`;
  const passwordFile = path.join(dir, 'passwd');
  await run(passwd, ['-b', '-c', passwordFile, username, password]);
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwordFile}`, 'persistence false', 'user root', 'log_dest stdout', ''].join('\n'),
  );
  let proc: ManagedProcess;
  const start = async (): Promise<void> => {
    proc = launch({ name: 'mosquitto', command: broker, args: ['-c', conf], cleanupDir: dir });
    await waitUntilReady({ what: 'mosquitto', probe: () => portOpen(port), processes: [proc], timeoutMs: options.timeoutMs });
  };
  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    username,
    password,
    async publish(topic, payload, opts = {}) {
      const args = ['-h', '127.0.0.1', '-p', String(port), '-u', username, '-P', password, '-q', '1', '-t', topic, '-m', payload];
      if (opts.retain) args.push('-r');
      await run(pub, args);
    },
    async kill() {
      proc.signal('SIGKILL');
      await proc.exited;
    },
    restart: start,
    async stop() {
      if (proc.running()) await proc.stop();
      await removeDir(dir);
    },
  };
}
