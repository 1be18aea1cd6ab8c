/**
 * Extra NUT test helpers for test/agents/nut.test.ts, next to the shared `nut.ts` harness:
 * a TCP server that accepts and never answers, and waiting for upsd to serve a value.
 */
import net from 'node:net';
import { nutCommand } from './nut.ts';

/** A listener that accepts connections and never writes a byte (a hung upsd). */
export interface SilentServer {
  host: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  stop(): Promise<void>;
}

/** Start a {@link SilentServer} on 127.0.0.1, port 0. */
export function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    // Read and discard: the client's commands are received, just never answered.
    socket.resume();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        host: '127.0.0.1',
        port: address.port,
        connections: () => accepted,
        stop: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/**
 * Poll `GET VAR ups name` until the reply contains `expected` (a value, or an `ERR TOKEN`),
 * e.g. after rewriting a dump or pausing a driver. Fails with the last reply after `timeoutMs`.
 */
export async function waitForReply(server: { host: string; port: number }, command: string, expected: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await nutCommand(server.host, server.port, command).catch((error: Error) => error.message);
    if (last.includes(expected)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${command}: expected a reply containing ${JSON.stringify(expected)} within ${timeoutMs} ms, last reply: ${JSON.stringify(last)}`);
}
