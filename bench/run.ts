/**
 * `npm run bench`: every benchmark in bench/, one table. Each starts its own real servers and
 * fakes; figures are printed, never asserted in tests.
 *
 *   npm run bench                 all of them
 *   npm run bench -- ingest hourly  only those named
 */
import { cpus, totalmem } from 'node:os';
import { run as backfillMemory } from './backfill-memory.ts';
import { run as fileStore } from './file-store.ts';
import { run as greenbutton } from './greenbutton-stream.ts';
import { run as hourly } from './hourly.ts';
import { run as hourlyJob } from './hourly-job.ts';
import { run as ingest } from './ingest.ts';
import { run as tariff } from './tariff.ts';
import { run as insight } from './insight.ts';
import { run as opowerBackfill } from './opower-backfill.ts';
import { type BenchRow, printRows } from './table.ts';

// Greenbutton first: its peak RSS is the process's, which ingest's million lines would inflate.
const BENCHES: { [name: string]: () => Promise<BenchRow[]> } = {
  greenbutton: () => greenbutton(5),
  ingest: () => ingest(),
  'opower-backfill': async () => {
    const [sequential, pooled] = await opowerBackfill();
    if (!sequential || !pooled) throw new Error('opower-backfill returned no figures');
    const speedup = sequential.collectWallSeconds / pooled.collectWallSeconds;
    return [
      { name: 'opower backfill 3 years: sequential', value: `${sequential.collectWallSeconds.toFixed(2)} s fetching, ${sequential.requests} requests, 100 ms latency each` },
      { name: 'opower backfill 3 years: ≤ 4 in flight', value: `${pooled.collectWallSeconds.toFixed(2)} s fetching = ${speedup.toFixed(2)} × faster`, target: '≥ 3 ×', ok: speedup >= 3 },
      {
        name: 'opower backfill: CPU per 100k points',
        value: `${pooled.collectCpuPer100k.toFixed(2)} s collecting; ${pooled.cpuPer100k.toFixed(2)} s whole run incl. rollups and file store`,
        target: '≤ 1 s (collecting)',
        ok: pooled.collectCpuPer100k <= 1,
      },
    ];
  },
  hourly: async () => {
    const result = await hourly({ runs: 7, log: () => {} });
    return [
      { name: 'start-up: bare node -e ""', value: `${result.bareNodeMs.toFixed(0)} ms` },
      ...result.scripts.map((s) => ({
        name: `start-up: ${s.command}`,
        value: `${s.overheadMs.toFixed(0)} ms to first request beyond bare node (wall ${s.wallMs.toFixed(0)} ms)`,
        ...(s.command.startsWith('node --import tsx') ? { target: '≤ 400 ms', ok: s.overheadMs <= 400 } : {}),
      })),
    ];
  },
  'hourly-job': () => hourlyJob(),
  'backfill-memory': () => backfillMemory(),
  'file-store': () => fileStore(),
  tariff: () => tariff(),
  insight: () => insight(),
};

const wanted = process.argv.slice(2);
for (const name of wanted) if (!(name in BENCHES)) throw new Error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
const rows: BenchRow[] = [];
for (const [name, bench] of Object.entries(BENCHES)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(...(await bench()));
}
console.log(`\nhomeflux benchmarks — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}\n`);
printRows(rows);
