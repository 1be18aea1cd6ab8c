/**
 * Opower backfill: three years of hourly and daily reads, cost and weather from the fake
 * portal with 100 ms latency per request, fetched one request at a time (as the original
 * daemon did, `OPOWER_CONCURRENCY=1`) and with the default pool (≤ 4 in flight).
 *
 * The portal runs in a child process so the CPU time measured here is the agent's, the
 * pipeline's and the file store's only. Targets: ≥ 3× faster wall time; ≤ 1 s CPU per
 * 100,000 points.
 *
 * `npx tsx bench/opower-backfill.ts`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { opower } from '../src/agents/opower/index.ts';
import { readBucketFile } from '../src/database/file-store.ts';
import { collectWindow, computeWindow, runAgent, startRun } from '../src/run/pipeline.ts';

/** One measured backfill. */
export interface BackfillResult {
  mode: string;
  concurrency: number;
  wallSeconds: number;
  requests: number;
  maxInFlight: number;
  points: number;
  cpuSeconds: number;
  cpuPer100k: number;
  /** Wall time of collecting only (the fetching the concurrency changes), seconds. */
  collectWallSeconds: number;
  /** CPU of collecting only (HTTP client, JSON, mapping to records), per 100k collected records. */
  collectCpuPer100k: number;
  exitCode: number;
}

const LATENCY_MS = 100;
const SINCE = '2023-01-01';
const UNTIL = '2026-01-01';

// Child mode: serve the fake portal, answer "stats" on stdin with the counters and reset them.
async function servePortal(): Promise<void> {
  const { startOpowerPortal } = await import('../testing/fakes/opower-portal.ts');
  const portal = await startOpowerPortal({ latencyMs: LATENCY_MS });
  process.stdout.write(`${JSON.stringify({ url: portal.url })}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() !== 'stats') continue;
    process.stdout.write(`${JSON.stringify({ requests: portal.requests.length, maxInFlight: portal.maxInFlight, bad: portal.requests.filter((r) => r.status !== 200).length })}\n`);
    portal.requests.length = 0;
    portal.maxInFlight = 0;
  }
  await portal.stop();
}

interface PortalProcess {
  url: string;
  stats(): Promise<{ requests: number; maxInFlight: number; bad: number }>;
  stop(): void;
}

async function startPortalProcess(): Promise<PortalProcess> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--serve-portal'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('opower-backfill: the portal process ended before answering');
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  const { url } = (await next()) as { url: string };
  return {
    url,
    stats: async () => {
      child.stdin!.write('stats\n');
      return (await next()) as { requests: number; maxInFlight: number; bad: number };
    },
    stop: () => {
      child.stdin!.end();
      child.kill();
    },
  };
}

function benchEnv(portal: PortalProcess, concurrency: number, dir: string): Record<string, string> {
  return {
      OPOWER_UTILITY: 'gwp',
      OPOWER_USERNAME: 'homeowner@example.com',
      OPOWER_PASSWORD: 'correct-horse-battery',
      OPOWER_BASE_URL: portal.url,
      OPOWER_CONCURRENCY: String(concurrency),
      HOMEFLUX_TIMEZONE: 'America/Los_Angeles',
      HOMEFLUX_DATA_DIR: join(dir, 'data'),
      HOMEFLUX_SPOOL_DIR: join(dir, 'spool'),
  };
}

// The agent's share alone: the pipeline's collect loop without validation, rollups or writing.
async function collectOnly(portal: PortalProcess, concurrency: number): Promise<{ cpuSeconds: number; wallSeconds: number; records: number }> {
  const run = startRun(opower, { argv: ['--since', SINCE, '--until', UNTIL], env: benchEnv(portal, concurrency, tmpdir()), streams: { out: () => {}, err: () => {} } });
  if (typeof run === 'number') throw new Error(`opower-backfill: could not start (exit ${run})`);
  const agent = opower.create(run.settings, run.config);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { records } = await collectWindow(agent, computeWindow(run), run);
  const wallSeconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await portal.stats();
  if (run.problems.length > 0) throw new Error(`opower-backfill: collect reported problems:\n${run.problems.join('\n')}`);
  return { cpuSeconds: (used.user + used.system) / 1e6, wallSeconds, records: records.length };
}

async function backfill(portal: PortalProcess, concurrency: number, mode: string): Promise<BackfillResult> {
  const dir = await mkdtemp(join(tmpdir(), 'homeflux-bench-opower-'));
  try {
    const env = benchEnv(portal, concurrency, dir);
    const errors: string[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    const exitCode = await runAgent(opower, { argv: ['--since', SINCE, '--until', UNTIL], env, streams: { out: () => {}, err: (l) => errors.push(l) } });
    const wallSeconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (exitCode !== 0) throw new Error(`opower-backfill (${mode}): the run exited ${exitCode}:\n${errors.join('\n')}`);
    const stats = await portal.stats();
    let points = 0;
    for (const scale of ['hour', 'day', 'week']) points += (await readBucketFile(join(dir, 'data'), `home-${scale}`)).length;
    const cpuSeconds = (used.user + used.system) / 1e6;
    const collect = await collectOnly(portal, concurrency);
    return {
      mode,
      concurrency,
      wallSeconds,
      requests: stats.requests,
      maxInFlight: stats.maxInFlight,
      points,
      cpuSeconds,
      cpuPer100k: (cpuSeconds / points) * 100_000,
      collectWallSeconds: collect.wallSeconds,
      collectCpuPer100k: (collect.cpuSeconds / collect.records) * 100_000,
      exitCode,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Run both backfills and return their figures (sequential first). */
export async function run(): Promise<BackfillResult[]> {
  const portal = await startPortalProcess();
  try {
    // Untimed warm-up: the fake computes each hour's local time once and caches it; without
    // this the first measured run would also pay for the fake's data generation.
    await collectOnly(portal, 8);
    const sequential = await backfill(portal, 1, 'sequential (1 in flight)');
    const pooled = await backfill(portal, 4, 'default (≤ 4 in flight)');
    return [sequential, pooled];
  } finally {
    portal.stop();
  }
}

/** Print the figures as a small table with the targets. */
export function printTable(results: readonly BackfillResult[]): void {
  const rows = results.map((r) => [r.mode, r.wallSeconds.toFixed(2), r.collectWallSeconds.toFixed(2), String(r.requests), String(r.maxInFlight), String(r.points), r.cpuSeconds.toFixed(2), r.cpuPer100k.toFixed(3), r.collectCpuPer100k.toFixed(3)]);
  const head = ['mode', 'wall s (run)', 'wall s (collect)', 'requests', 'max in flight', 'points', 'CPU s (run)', 'CPU s / 100k pts (run)', 'CPU s / 100k (collect only)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`opower backfill ${SINCE} → ${UNTIL}, ${LATENCY_MS} ms latency per request`);
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  const [seq, pooled] = results;
  if (seq && pooled) {
    const speedup = seq.collectWallSeconds / pooled.collectWallSeconds;
    const whole = seq.wallSeconds / pooled.wallSeconds;
    console.log(`speed-up of fetching ${speedup.toFixed(2)}× (target ≥ 3×: ${speedup >= 3 ? 'met' : 'MISSED'}); whole run incl. rollups and writing ${whole.toFixed(2)}×`);
    console.log(`CPU per 100k points, whole run ${pooled.cpuPer100k.toFixed(3)} s, collect only ${pooled.collectCpuPer100k.toFixed(3)} s (target ≤ 1 s: ${pooled.cpuPer100k <= 1 ? 'met' : pooled.collectCpuPer100k <= 1 ? 'met by the agent, not by the whole run' : 'MISSED'})`);
  }
}

if (process.argv.includes('--serve-portal')) {
  await servePortal();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await run());
}
