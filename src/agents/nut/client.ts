/**
 * A small async client for the NUT network protocol (upsd, TCP port 3493), on `node:net`.
 *
 * The protocol is line based: one command per line, one reply line per command, or for
 * `LIST` a `BEGIN LIST …` / `END LIST …` block. Values are double-quoted with backslash
 * escapes (`\"`, `\\`). A failed command answers `ERR <TOKEN> [detail]`, which becomes one of
 * the classes of `errors.ts` carrying the token. Commands are sent one at a time.
 *
 * Reference: https://networkupstools.org/docs/developer-guide.chunked/net-protocol.html
 *
 * @example
 *   const client = await NutClient.connect({ host: '192.168.1.2' });
 *   try {
 *     const vars = await client.listVars('ups'); // Map { 'ups.load' => '13', … }
 *   } finally {
 *     await client.logout();
 *   }
 */
import net from 'node:net';
import { errorForToken, NutError, NutTransientError } from './errors.ts';

/** The port upsd listens on unless told otherwise. */
export const NUT_DEFAULT_PORT = 3493;

/** Options for {@link NutClient.connect}. */
export interface NutClientOptions {
  host: string;
  /** Default {@link NUT_DEFAULT_PORT}. */
  port?: number;
  /** How long the TCP connection may take (default 5 s). */
  connectTimeoutMs?: number;
  /** How long to wait for each reply line (default 10 s). */
  readTimeoutMs?: number;
  /** Aborting closes the connection; a pending command fails. */
  signal?: AbortSignal;
}

// upsd accepts bare words made of these; anything else goes in quotes.
const BARE_WORD = /^[A-Za-z0-9_.:@+*/-]+$/;

/** Quote one command argument for upsd (bare when safe, else `"…"` with `\` escapes). */
export function quoteArgument(value: string): string {
  // A line break would end the command early and let the rest run as another command.
  if (/[\r\n\0]/.test(value)) throw new RangeError('a NUT command argument must not contain a line break or NUL');
  if (value !== '' && BARE_WORD.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Split a reply line into words: runs of non-spaces, or `"…"` strings in which a backslash
 * makes the next character literal. Throws a RangeError on an unterminated quote.
 *
 * @example splitWords('VAR ups ups.status "OL CHRG"') // ['VAR', 'ups', 'ups.status', 'OL CHRG']
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    let word = '';
    if (c === '"') {
      i++;
      let closed = false;
      while (i < line.length) {
        const d = line[i]!;
        if (d === '\\' && i + 1 < line.length) {
          word += line[i + 1];
          i += 2;
        } else if (d === '"') {
          closed = true;
          i++;
          break;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw new RangeError(`unterminated quoted value in ${JSON.stringify(line.slice(0, 200))}`);
    } else {
      while (i < line.length && line[i] !== ' ' && line[i] !== '\t') word += line[i++];
    }
    words.push(word);
  }
  return words;
}

interface Waiter {
  resolve(line: string): void;
  reject(error: Error): void;
}

/** One connection to upsd. Not safe for concurrent commands: await each before the next. */
export class NutClient {
  /** `host:port`, for messages. */
  readonly server: string;
  private readonly lines: string[] = [];
  private partial = '';
  private waiter: Waiter | undefined;
  private closed: Error | undefined;
  private readonly readTimeoutMs: number;

  private constructor(
    private readonly socket: net.Socket,
    server: string,
    options: NutClientOptions,
  ) {
    this.server = server;
    this.readTimeoutMs = options.readTimeoutMs ?? 10_000;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.receive(chunk));
    socket.on('error', (error) => this.fail(new NutTransientError(`connection failed: ${error.message}`, undefined, { server, cause: error })));
    socket.on('close', () => this.fail(new NutTransientError('upsd closed the connection', undefined, { server })));
    options.signal?.addEventListener('abort', () => this.fail(new NutTransientError('interrupted', undefined, { server })), { once: true });
  }

  /** Open a connection; rejects with a {@link NutTransientError} on refusal or timeout. */
  static connect(options: NutClientOptions): Promise<NutClient> {
    const port = options.port ?? NUT_DEFAULT_PORT;
    const server = `${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
    const timeoutMs = options.connectTimeoutMs ?? 5_000;
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) return reject(new NutTransientError('interrupted before connecting', undefined, { server }));
      const socket = net.connect({ host: options.host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new NutTransientError(`no TCP connection after ${timeoutMs / 1000} s (is upsd listening there?)`, undefined, { server }));
      }, timeoutMs);
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(new NutTransientError(`cannot connect: ${error.message}`, undefined, { server, cause: error }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new NutClient(socket, server, options));
      });
    });
  }

  /** `USERNAME` then `PASSWORD`. upsd checks them only when they are used (e.g. by {@link login}). */
  async authenticate(username: string, password: string): Promise<void> {
    // The user name is half a credential: messages quote the command without it, like the password.
    await this.request(['USERNAME', username], 'USERNAME ***');
    await this.request(['PASSWORD', password], 'PASSWORD ***');
  }

  /**
   * `LOGIN <ups>`: the command upsmon uses. It is the one read-side command for which upsd
   * checks the password (the user needs `upsmon secondary` or `actions = LOGIN`), so it
   * verifies credentials. A connection can log in once; {@link logout} logs out.
   */
  async login(ups: string): Promise<void> {
    await this.request(['LOGIN', ups]);
  }

  /** `LIST UPS` → UPS name → description. */
  async listUps(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const words of await this.requestList(['LIST', 'UPS'])) {
      if (words[0] === 'UPS' && words[1] !== undefined) out.set(words[1], words[2] ?? '');
    }
    return out;
  }

  /** `LIST VAR <ups>` → variable name → value (always a string, as upsd sends it). */
  async listVars(ups: string): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const words of await this.requestList(['LIST', 'VAR', ups])) {
      if (words[0] === 'VAR' && words[1] === ups && words[2] !== undefined) out.set(words[2], words[3] ?? '');
    }
    return out;
  }

  /** `GET VAR <ups> <name>` → the value. */
  async getVar(ups: string, name: string): Promise<string> {
    const line = await this.request(['GET', 'VAR', ups, name]);
    let words: string[];
    try {
      words = splitWords(line);
    } catch (error) {
      // As in requestList: an unterminated quote is upsd's fault, a NutError, not a RangeError (found by fuzzing).
      throw new NutError(`unreadable reply line: ${(error as Error).message}`, undefined, { server: this.server, command: `GET VAR ${ups} ${name}` });
    }
    if (words[0] !== 'VAR' || words[1] !== ups || words[2] !== name || words[3] === undefined) {
      throw this.unexpected(`GET VAR ${ups} ${name}`, `VAR ${ups} ${name} "<value>"`, words.join(' '));
    }
    return words[3];
  }

  /** `LOGOUT` and close. Never throws: a server that is already gone is fine. */
  async logout(): Promise<void> {
    if (this.closed === undefined) {
      try {
        await this.request(['LOGOUT']);
      } catch {
        // upsd may close before or instead of answering "OK Goodbye"; either way we are done.
      }
    }
    this.close();
  }

  /** Close the socket at once. */
  close(): void {
    this.fail(new NutTransientError('connection closed by the client', undefined, { server: this.server }));
    this.socket.destroy();
  }

  /** Send one command and return its reply line; `ERR …` throws. */
  private async request(words: string[], display = words.join(' ')): Promise<string> {
    if (this.closed) throw this.closed;
    this.socket.write(`${words.map(quoteArgument).join(' ')}\n`);
    const line = await this.nextLine(display);
    // A command shown masked carries a credential: a server echoing it in its error detail must not print it.
    this.throwIfError(line, display, display !== words.join(' '));
    return line;
  }

  /** Send a LIST command and return the words of each line between BEGIN and END. */
  private async requestList(words: string[]): Promise<string[][]> {
    const display = words.join(' ');
    const first = await this.request(words, display);
    const expected = `BEGIN ${display}`;
    if (first !== expected) throw this.unexpected(display, expected, first);
    const out: string[][] = [];
    for (;;) {
      const line = await this.nextLine(display);
      if (line === `END ${display}`) return out;
      this.throwIfError(line, display);
      try {
        out.push(splitWords(line));
      } catch (error) {
        throw new NutError(`unreadable reply line: ${(error as Error).message}`, undefined, { server: this.server, command: display });
      }
    }
  }

  private throwIfError(line: string, command: string, hideDetail = false): void {
    if (!line.startsWith('ERR ') && line !== 'ERR') return;
    const [, token = 'UNKNOWN', ...detail] = line.split(' ');
    throw errorForToken(token, { server: this.server, command, detail: hideDetail ? undefined : detail.join(' ') || undefined });
  }

  private unexpected(command: string, expected: string, found: string): NutError {
    return new NutError(`expected a reply "${expected}", found ${JSON.stringify(found.slice(0, 200))}`, undefined, { server: this.server, command });
  }

  private nextLine(command: string): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        const error = new NutTransientError(`no reply after ${this.readTimeoutMs / 1000} s`, undefined, { server: this.server, command });
        reject(error);
        // The reply may still arrive later and would be taken for the next command's: close.
        this.fail(error);
        this.socket.destroy();
      }, this.readTimeoutMs);
      this.waiter = {
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private receive(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) {
      const line = part.endsWith('\r') ? part.slice(0, -1) : part;
      const waiter = this.waiter;
      if (waiter) {
        this.waiter = undefined;
        waiter.resolve(line);
      } else {
        this.lines.push(line);
      }
    }
  }

  private fail(error: Error): void {
    this.closed ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.closed);
  }
}
