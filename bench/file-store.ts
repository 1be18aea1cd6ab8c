/**
 * `npx tsx bench/file-store.ts`: what one hourly write costs in a file store holding three years
 * of minute UPS samples plus hourly series (≈ 1.6 M lines), against the same write into an empty
 * store — in one run, each write in its own child process so its peak RSS is its own.
 *
 * Target (issue "shape for growth"): ≤ 1.5 × the empty store's time, peak RSS within 50 MiB of
 * the empty case.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FileStore } from '../src/database/file-store.ts';
import type { BenchRow } from './table.ts';

const START = Date.UTC(2023, 0, 1) / 1000;
const YEARS = 3;
const END = START + YEARS * 365 * 86400;
const ups = (t: number): string => `ups,data_source=homeflux,location=rack,source=homeflux.nut battery_charge=100,input_voltage=${(120 + (t % 7) / 10).toFixed(1)},load_percent=${(t / 60) % 40},power_w=${35 + ((t / 60) % 13)},status="OL" ${t}`;
const hourly = (t: number): string[] => [
  `power,data_source=homeflux,location=gwp_meter,source=homeflux.opower.gwp estimated=false,power_usage=${250 + ((t / 3600) % 500)} ${t}`,
  `temperature,data_source=homeflux,location=gwp,source=homeflux.opower.gwp temperature=${55 + ((t / 3600) % 20)} ${t}`,
  `ups,data_source=homeflux,location=rack,source=homeflux.nut power_w=${40 + ((t / 3600) % 9)} ${t}`,
];

/** The write an hourly run makes: one more hour of minute samples and the hourly points. */
function oneHour(at: number): { minute: string[]; hour: string[] } {
  return { minute: Array.from({ length: 60 }, (_, i) => ups(at + i * 60)), hour: hourly(at) };
}

/** Fill `dir` with the three-year store, month by month through the store itself. */
async function fill(dir: string): Promise<number> {
  const store = new FileStore(dir);
  let lines = 0;
  for (let month = START; month < END; ) {
    const d = new Date(month * 1000);
    const next = Math.min(END, Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000);
    const minute: string[] = [];
    const hour: string[] = [];
    for (let t = month; t < next; t += 60) minute.push(ups(t));
    for (let t = month; t < next; t += 3600) hour.push(...hourly(t));
    await store.write('home-minute', minute);
    await store.write('home-hour', hour);
    lines += minute.length + hour.length;
    month = next;
  }
  return lines;
}

/** In a child: write the hour starting at `at` into the store at `dir`, print {ms, rssMiB}. */
async function child(dir: string, at: number): Promise<void> {
  const { minute, hour } = oneHour(at);
  const started = performance.now();
  const store = new FileStore(dir);
  await store.write('home-minute', minute);
  await store.write('home-hour', hour);
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ms, rssMiB: process.resourceUsage().maxRSS / 1024 }));
}

async function measure(dir: string, at: number): Promise<{ ms: number; rssMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...process.execArgv, import.meta.filename, '--child', dir, String(at)], { encoding: 'utf8' });
  return JSON.parse(stdout) as { ms: number; rssMiB: number };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The benchmark; rows for `npm run bench`. */
export async function run(rounds = 5): Promise<BenchRow[]> {
  const big = await mkdtemp(join(tmpdir(), 'homeflux-bench-store-'));
  const empties: string[] = [];
  try {
    const t0 = performance.now();
    const lines = await fill(big);
    const fillSeconds = (performance.now() - t0) / 1000;
    const inBig: { ms: number; rssMiB: number }[] = [];
    const inEmpty: { ms: number; rssMiB: number }[] = [];
    const rerun: { ms: number; rssMiB: number }[] = [];
    // Alternate, so drift on a shared machine hits both alike. Each round writes the next hour
    // (what an hourly run of new samples does); the re-run writes an hour already stored, which
    // must merge with its whole month.
    for (let i = 0; i < rounds; i++) {
      const empty = await mkdtemp(join(tmpdir(), 'homeflux-bench-empty-'));
      empties.push(empty);
      inEmpty.push(await measure(empty, END + i * 3600));
      inBig.push(await measure(big, END + i * 3600));
      rerun.push(await measure(big, END - 86400 * 10 + i * 3600));
    }
    const ratio = median(inBig.map((r) => r.ms)) / median(inEmpty.map((r) => r.ms));
    const rss = median(inBig.map((r) => r.rssMiB)) - median(inEmpty.map((r) => r.rssMiB));
    return [
      { name: `file store: ${lines.toLocaleString('en')} lines (3 years of minute UPS samples + hourly), filled in`, value: `${fillSeconds.toFixed(1)} s` },
      { name: 'file store: one hourly write (63 lines) into an empty store', value: `${median(inEmpty.map((r) => r.ms)).toFixed(1)} ms, peak RSS ${median(inEmpty.map((r) => r.rssMiB)).toFixed(0)} MiB (median of ${rounds})` },
      { name: 'file store: an hour already stored, written again (merges its month)', value: `${median(rerun.map((r) => r.ms)).toFixed(1)} ms, peak RSS ${median(rerun.map((r) => r.rssMiB)).toFixed(0)} MiB` },
      { name: 'file store: the same write into the 3-year store', value: `${median(inBig.map((r) => r.ms)).toFixed(1)} ms = ${ratio.toFixed(2)} × empty, peak RSS ${median(inBig.map((r) => r.rssMiB)).toFixed(0)} MiB (+${rss.toFixed(0)} MiB)`, target: '≤ 1.5 ×, ≤ +50 MiB', ok: ratio <= 1.5 && rss <= 50 },
    ];
  } finally {
    await rm(big, { recursive: true, force: true });
    for (const e of empties) await rm(e, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3]!, Number(process.argv[4]));
else if (import.meta.filename === process.argv[1]) {
  const { printRows } = await import('./table.ts');
  printRows(await run());
}
