/**
 * bench/hourly: the hourly job's agent commands (hourly.yml, as written there: `node --import
 * tsx scripts/<agent>.ts`) against the local fakes and a real InfluxDB 1.x. For each script:
 * wall time, and start-up overhead — spawn to the first request the fake sees (through a
 * timing proxy) — next to a bare `node -e ""` measured in the same run. Target: ≤ 400 ms of
 * overhead per script beyond bare Node.
 *
 * `npx tsx bench/hourly.ts [--runs N]`
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { startOpenMeteo } from '../testing/fakes/open-meteo.ts';
import { startOpowerPortal } from '../testing/fakes/opower-portal.ts';
import { startFaultProxy, type FaultProxy } from '../testing/helpers/fault-proxy.ts';
import { startInfluxV1 } from '../testing/helpers/servers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGET_OVERHEAD_MS = 400;

/** One script's figures (medians over the runs). */
export interface ScriptFigures {
  agent: string;
  command: string;
  wallMs: number;
  /** Spawn → first request at the fake. */
  firstRequestMs: number;
  /** `firstRequestMs` minus bare Node's wall time. */
  overheadMs: number;
  exitCodes: number[];
}

/** The whole benchmark's result. */
export interface HourlyBench {
  bareNodeMs: number;
  scripts: ScriptFigures[];
  skipped: string[];
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

function timed(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ spawnedAt: number; wallMs: number; code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const spawnedAt = Date.now();
    const start = performance.now();
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ spawnedAt, wallMs: performance.now() - start, code: code ?? -1, output }));
  });
}

/** The agent steps of hourly.yml: id → command line. */
async function hourlyCommands(): Promise<Map<string, string>> {
  const workflow = parse(await readFile(join(ROOT, '.github/workflows/hourly.yml'), 'utf8')) as { jobs: { collect: { steps: Array<{ id?: string; run?: string }> } } };
  const out = new Map<string, string>();
  for (const step of workflow.jobs.collect.steps) {
    const command = step.run?.split('\n').find((line) => /^(node|npx) .*scripts\/\S+\.ts/.test(line.trim()))?.trim();
    if (step.id && command) out.set(step.id, command);
  }
  return out;
}

/** Run the benchmark; prints a table and returns the figures. */
export async function run(options: { runs?: number; log?: (line: string) => void } = {}): Promise<HourlyBench> {
  const runs = options.runs ?? 3;
  const log = options.log ?? ((line: string) => console.log(line));
  const commands = await hourlyCommands();
  const influx = await startInfluxV1();
  const [meteo, portal] = await Promise.all([startOpenMeteo(), startOpowerPortal({ username: 'bench@example.com', password: 'bench-password' })]);
  const proxies: FaultProxy[] = [];
  const work = await mkdtemp(join(tmpdir(), 'homeflux-bench-hourly-'));
  try {
    // A scratch checkout so the spool lands in a temp dir, not the repository.
    for (const entry of ['scripts', 'src', 'node_modules', 'package.json', 'tsconfig.json']) await symlink(join(ROOT, entry), join(work, entry));
    const proxyFor = async (url: string): Promise<FaultProxy> => {
      const proxy = await startFaultProxy(url);
      proxies.push(proxy);
      return proxy;
    };
    const meteoProxy = await proxyFor(meteo.url);
    const portalProxy = await proxyFor(portal.url);
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', INFLUX_URL: influx.url, INFLUX_API: 'v1', HOMEFLUX_TIMEZONE: 'America/Los_Angeles', HOMEFLUX_SPOOL_DIR: 'spool' };
    const setups: Record<string, { env: Record<string, string>; proxy: FaultProxy }> = {
      weather: { env: { WEATHER_LATITUDE: '34.14', WEATHER_LONGITUDE: '-118.25', WEATHER_BASE_URL: meteoProxy.url, WEATHER_ARCHIVE_BASE_URL: meteoProxy.url }, proxy: meteoProxy },
      opower: { env: { OPOWER_UTILITY: 'gwp', OPOWER_USERNAME: 'bench@example.com', OPOWER_PASSWORD: 'bench-password', OPOWER_BASE_URL: portalProxy.url }, proxy: portalProxy },
    };

    // Warm the file system cache and tsx's transform cache once, as a second hourly run on a runner would be.
    const bare: number[] = [];
    for (let i = 0; i < runs + 2; i++) bare.push((await timed(process.execPath, ['-e', ''], { cwd: work, env: base })).wallMs);
    const bareNodeMs = median(bare.slice(2));

    const scripts: ScriptFigures[] = [];
    const skipped: string[] = [];
    // The workflow's command, and `npx tsx` (npx and the tsx CLI each start one more Node) for comparison.
    const variants = [...commands].flatMap(([agent, command]) => [[agent, command], [agent, command.replace(/^node --import tsx /, 'npx tsx ')]] as const);
    for (const [agent, command] of new Map(variants.map((v) => [v.join(' '), v])).values()) {
      const setup = setups[agent];
      if (!setup) {
        if (!skipped.includes(`${agent} (no local fake)`)) skipped.push(`${agent} (no local fake)`);
        continue;
      }
      const [bin, ...args] = command.split(/\s+/);
      const walls: number[] = [];
      const firsts: number[] = [];
      const codes: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        const before = setup.proxy.requests.length;
        const result = await timed(bin!, args, { cwd: work, env: { ...base, ...setup.env } });
        const first = setup.proxy.requests[before];
        if (i === 0) continue; // warm-up
        codes.push(result.code);
        walls.push(result.wallMs);
        if (first) firsts.push(first.time - result.spawnedAt);
        if (result.code !== 0) log(`${agent}: exit ${result.code}\n${result.output.slice(-2000)}`);
      }
      const firstRequestMs = firsts.length ? median(firsts) : Number.NaN;
      scripts.push({ agent, command, wallMs: median(walls), firstRequestMs, overheadMs: firstRequestMs - bareNodeMs, exitCodes: codes });
    }

    const f = (ms: number): string => `${Math.round(ms)} ms`.padStart(8);
    log(`bench/hourly — medians of ${runs} run(s) after a warm-up, InfluxDB 1.x ${influx.url}, fakes via timing proxies`);
    log(`bare node -e "": ${f(bareNodeMs)}`);
    log(`${'script'.padEnd(40)} ${'wall'.padStart(8)} ${'1st req'.padStart(8)} ${'overhead'.padStart(8)}  target ≤ ${TARGET_OVERHEAD_MS} ms`);
    for (const s of scripts) {
      const verdict = s.overheadMs <= TARGET_OVERHEAD_MS ? 'ok' : 'OVER';
      log(`${s.command.padEnd(40)} ${f(s.wallMs)} ${f(s.firstRequestMs)} ${f(s.overheadMs)}  ${verdict}  exit ${s.exitCodes.join(',')}`);
    }
    for (const s of skipped) log(`skipped: ${s}`);
    return { bareNodeMs, scripts, skipped };
  } finally {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([meteo.stop(), portal.stop(), influx.stop()]);
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { runs: { type: 'string' } } });
  await run({ runs: values.runs ? Number(values.runs) : undefined });
}
