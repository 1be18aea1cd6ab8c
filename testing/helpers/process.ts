/**
 * Child-process plumbing shared by the real-server launchers (`servers.ts`, `nut.ts`):
 * finding binaries, temp dirs, spawning with captured output, waiting for readiness with a
 * useful error, and stopping for sure.
 *
 * Servers must never outlive the test run, even when vitest is killed: every child gets a
 * tiny detached `sh` watchdog that SIGKILLs it (and removes its temp dir) once this Node
 * process is gone, and a process `exit` handler kills whatever is still running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** How a managed process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** A spawned server process whose output is kept for error messages. */
export interface ManagedProcess {
  /** Short label used in messages, e.g. `influxd` or `dummy-ups[cp900]`. */
  readonly name: string;
  readonly pid: number;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** True until the process has exited. */
  running(): boolean;
  /** The last `lines` lines of combined stdout/stderr. */
  tail(lines?: number): string;
  /** Send a signal (e.g. SIGSTOP/SIGCONT to simulate a hung driver). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Options for {@link launch}. */
export interface LaunchOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Removed by the watchdog if this Node process dies without stopping the child. */
  cleanupDir?: string;
}

const OUTPUT_LINES_KEPT = 200;
const live = new Set<{ child: ChildProcess; cleanupDir?: string }>();
let exitHandlerInstalled = false;

/** Last resort for a normal `process.exit()` without teardown: kill children synchronously. */
function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      try {
        entry.child.kill('SIGKILL');
      } catch {
        // already gone
      }
      if (entry.cleanupDir) rmSync(entry.cleanupDir, { recursive: true, force: true });
    }
  });
}

/**
 * Covers the cases an `exit` handler cannot (SIGKILL of vitest, SIGINT without handler):
 * a detached shell polls our pid and kills the child when we are gone.
 */
function startWatchdog(childPid: number, cleanupDir: string | undefined): ChildProcess {
  const script =
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done; ' +
    'kill -KILL "$2" 2>/dev/null; [ -n "$3" ] && sleep 1 && rm -rf "$3"; exit 0';
  const watchdog = spawn(
    'sh',
    ['-c', script, 'homeflux-test-watchdog', String(process.pid), String(childPid), cleanupDir ?? ''],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();
  return watchdog;
}

/**
 * Absolute path of `command` (a bare name looked up in PATH, or an absolute path), or an
 * Error that tells how to install it — a missing server fails the tests, never skips them.
 *
 * @example await requireBinary('influxd', 'apt-get install -y influxdb')
 */
export async function requireBinary(command: string, installCommand: string): Promise<string> {
  const candidates = path.isAbsolute(command)
    ? [command]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // try the next PATH entry
    }
  }
  throw new Error(`${command} not found: install it with "${installCommand}"`);
}

/** A fresh private temp dir named after the server, for its data and config. */
export function makeTempDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `homeflux-test-${label}-`));
}

/** Remove a temp dir, ignoring one that is already gone. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Spawn a server with stdout/stderr captured (the last lines end up in error messages).
 * The child is unref'd so a forgotten handle cannot keep a test worker alive; the exit
 * handler and the watchdog make sure it dies with us.
 */
export function launch(options: LaunchOptions): ManagedProcess {
  installExitHandler();
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const entry = { child, cleanupDir: options.cleanupDir };
  live.add(entry);

  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > OUTPUT_LINES_KEPT) lines.splice(0, lines.length - OUTPUT_LINES_KEPT);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let hasExited = false;
  let watchdog: ChildProcess | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (error) => {
      hasExited = true;
      live.delete(entry);
      resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      hasExited = true;
      live.delete(entry);
      if (watchdog?.pid !== undefined) {
        try {
          process.kill(watchdog.pid, 'SIGKILL');
        } catch {
          // watchdog already gone
        }
      }
      resolve({ code, signal });
    });
  });
  if (child.pid !== undefined) watchdog = startWatchdog(child.pid, options.cleanupDir);
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const managed: ManagedProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    exited,
    running: () => !hasExited,
    tail: (count = 20) => [...lines, ...(partial ? [partial] : [])].slice(-count).join('\n'),
    signal: (signal) => {
      if (!hasExited) child.kill(signal);
    },
    stop: async (graceMs = 5_000) => {
      if (hasExited) return;
      child.kill('SIGCONT'); // a paused (SIGSTOP) process would ignore SIGTERM
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  return managed;
}

/** Describe how a process ended, with its last output, for an error message. */
export function describeExit(proc: ManagedProcess, info: ExitInfo): string {
  const how = info.error
    ? `failed to start (${info.error.message})`
    : `exited with ${info.signal ? `signal ${info.signal}` : `code ${String(info.code)}`}`;
  return `${proc.name} ${how}\n--- last output of ${proc.name} ---\n${proc.tail() || '(no output)'}`;
}

/** Options for {@link waitUntilReady}. */
export interface ReadyOptions {
  /** What is being waited for, for the error message (e.g. `influxd on :8086 /ping 204`). */
  what: string;
  /** Resolves true when ready; a throw or false means "not yet". */
  probe: () => Promise<boolean>;
  /** Processes whose early exit aborts the wait, and whose output goes into the error. */
  processes: ManagedProcess[];
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Poll `probe` until it answers true. Fails fast when a process exits, and after
 * `timeoutMs` (30 s) with the last probe error and every process's last output lines.
 */
export async function waitUntilReady(options: ReadyOptions): Promise<void> {
  const { what, probe, processes, timeoutMs = 30_000, intervalMs = 100 } = options;
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'probe never ran';
  for (;;) {
    for (const proc of processes) {
      if (!proc.running()) {
        throw new Error(`${what}: ${describeExit(proc, await proc.exited)}`);
      }
    }
    try {
      if (await probe()) return;
      lastProblem = 'probe answered "not ready"';
    } catch (error) {
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      const outputs = processes
        .map((proc) => `--- last output of ${proc.name} ---\n${proc.tail() || '(no output)'}`)
        .join('\n');
      throw new Error(`${what}: not ready after ${timeoutMs} ms (last probe: ${lastProblem})\n${outputs}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `fetch` with a per-request timeout, for readiness probes and helper queries. */
export async function fetchWithTimeout(url: string, init: RequestInit = {}, timeoutMs = 5_000): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
}
