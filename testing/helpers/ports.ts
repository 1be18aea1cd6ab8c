/**
 * Free loopback TCP ports for servers started by the tests.
 *
 * The kernel picks the port (listen on port 0); we close the socket and hand the number to
 * a server that binds it a moment later. That leaves a tiny race with other processes, which
 * the launchers in `servers.ts` cover by retrying with a new port when a server dies at start.
 */
import net from 'node:net';

/** Open a listener on 127.0.0.1:0 and return it once it is bound. */
function listenOnAnyPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Close a listener and report the port it had. */
function closeAndGetPort(server: net.Server): Promise<number> {
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`expected a TCP address from the listener, found ${String(address)}`);
  }
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve(address.port)));
  });
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago.
 *
 * @example
 *   const port = await freePort();
 *   spawn('victoria-metrics', [`-httpListenAddr=127.0.0.1:${port}`]);
 */
export async function freePort(): Promise<number> {
  return closeAndGetPort(await listenOnAnyPort());
}

/**
 * `count` distinct free ports. All listeners stay open until every port is known, so the
 * kernel cannot hand out the same number twice (calling `freePort()` twice could).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listenOnAnyPort());
  } catch (error) {
    await Promise.allSettled(servers.map(closeAndGetPort));
    throw error;
  }
  return Promise.all(servers.map(closeAndGetPort));
}
