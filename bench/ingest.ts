/**
 * bench/ingest, side by side in one run (ratios, since these machines are noisy):
 * - records → line protocol: homeflux's encoder against the official client's `Point` over the
 *   same records (targets ≥ 1,000,000 points/s and ≥ 1.0 × `Point`);
 * - 1,000,000 points through homeflux's writer into the real InfluxDB 1.x and the real
 *   VictoriaMetrics, against curl posting the same pre-serialised 5,000-line batches (target
 *   ≥ 1.0 × curl without gzip; the ratio with gzip forced is printed too);
 * - peak RSS of a separate process writing 1,000,000 points from a generator through the
 *   writer's stream (bench/ingest-memory.ts; target ≤ 200 MiB above its start).
 *
 *   npx tsx bench/ingest.ts [--points 1000000]
 */
import { execFile, spawn } from 'node:child_process';
import { Point } from '@influxdata/influxdb-client';
import type { DataRecord } from '../src/records.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipFor, httpTarget } from '../src/database/influx-http.ts';
import { Spool } from '../src/database/spool.ts';
import { HttpWriter } from '../src/database/writer.ts';
import { Logger } from '../src/log.ts';
import { powerRecord } from '../src/records.ts';
import { toLineProtocol } from '../src/lineprotocol.ts';
import { influxV1Client, startInfluxV1, startVictoriaMetrics, vmClient } from '../testing/helpers/servers.ts';
import { type BenchRow, printRows } from './table.ts';


const BATCH = 5_000;

function makeRecords(points: number): DataRecord[] {
  const records: DataRecord[] = new Array(points);
  const series = 10;
  const start = Date.parse('2020-01-01T00:00:00Z') / 1000;
  for (let i = 0; i < points; i++) {
    records[i] = powerRecord(
      { time: start + Math.floor(i / series) * 60, timescale: 'minute', source: 'homeflux.bench', location: `meter_${i % series}` },
      { value: (i % 977) + 0.25, unit: 'Wh' },
    );
  }
  return records;
}

/** The official client's serialisation of the same records: a `Point` each, as its users write them. */
function officialLines(records: readonly DataRecord[]): string[] {
  return records.map((r) => {
    const point = new Point(r.measurement).timestamp(r.time);
    for (const [k, v] of Object.entries(r.tags)) point.tag(k, v);
    for (const [k, v] of Object.entries(r.fields)) point.floatField(k, v as number);
    return point.toLineProtocol()!;
  });
}

/** Seconds for `fn`, best of `rounds` (after one warm-up). */
function timeBest<T>(fn: () => T, rounds = 3): { seconds: number; result: T } {
  let result = fn();
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    result = fn();
    best = Math.min(best, (performance.now() - started) / 1000);
  }
  return { seconds: best, result };
}

async function curlBatches(files: string[], url: string): Promise<number> {
  // One curl process, one connection, every batch in turn: the best case for a shell script.
  const args: string[] = [];
  for (const [i, file] of files.entries()) {
    if (i > 0) args.push('--next');
    args.push('-s', '-o', '/dev/null', '-w', '%{http_code}\\n', '-H', 'Content-Type: text/plain; charset=utf-8', '--data-binary', `@${file}`, url);
  }
  const started = performance.now();
  const codes = await new Promise<string>((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`curl exited ${code}`))));
  });
  const elapsed = (performance.now() - started) / 1000;
  const bad = codes.split('\n').filter((c) => c !== '' && c !== '204');
  if (bad.length > 0) throw new Error(`curl got ${bad.slice(0, 3).join(', ')}`);
  return elapsed;
}

async function writerBatches(lines: string[], target: ReturnType<typeof httpTarget>, bucket: string, spoolDir: string): Promise<number> {
  const log = new Logger({ env: {}, streams: { out: () => {}, err: (l) => console.error(l) } });
  const writer = new HttpWriter(target, { spool: new Spool(spoolDir), log });
  const started = performance.now();
  const summary = await writer.write(bucket, lines);
  const elapsed = (performance.now() - started) / 1000;
  if (summary.written !== lines.length) throw new Error(`writer wrote ${summary.written} of ${lines.length}: ${summary.failure ?? ''}`);
  return elapsed;
}

/** Run the benchmark; returns its rows. */
export async function run(options: { points?: number } = {}): Promise<BenchRow[]> {
  const points = options.points ?? 1_000_000;
  const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-'));
  // The encoders, then only the lines are kept: the records and the client's lines are let go
  // before the writes, so that the writer (like curl) holds nothing but the batches it sends.
  const { lines, oursSeconds, officialSeconds } = ((): { lines: string[]; oursSeconds: number; officialSeconds: number } => {
    const records = makeRecords(points);
    // Encoding as a writer streams it: a batch of 5,000 lines at a time, each batch let go once
    // encoded (holding a million result strings would time the garbage collector instead).
    const inBatches = (encode: (batch: readonly DataRecord[]) => string[]) => (): number => {
      let bytes = 0;
      for (let i = 0; i < records.length; i += BATCH) for (const line of encode(records.slice(i, i + BATCH))) bytes += line.length;
      return bytes;
    };
    const official = timeBest(inBatches(officialLines));
    const ours = timeBest(inBatches((batch) => batch.map((r) => toLineProtocol(r))));
    const lines = records.map((r) => toLineProtocol(r));
    const reference = officialLines(records);
    for (let i = 0; i < points; i++) if (lines[i] !== reference[i]) throw new Error(`homeflux and the official client encode record ${i} differently`);
    return { lines, oursSeconds: ours.seconds, officialSeconds: official.seconds };
  })();
  globalThis.gc?.();
  const files: string[] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const file = join(dir, `batch-${i / BATCH}.lp`);
    await writeFile(file, lines.slice(i, i + BATCH).join('\n'));
    files.push(file);
  }
  const perSecond = (seconds: number): string => `${Math.round(points / seconds).toLocaleString('en-US')} points/s`;
  const rows: BenchRow[] = [
    { name: 'ingest: records → line protocol, official client Point', value: perSecond(officialSeconds) },
    {
      name: 'ingest: records → line protocol, homeflux',
      value: `${perSecond(oursSeconds)} = ${(officialSeconds / oursSeconds).toFixed(2)} × Point (byte-identical)`,
      target: '≥ 1,000,000 points/s and ≥ 1.0 × Point',
      ok: points / oursSeconds >= 1_000_000 && officialSeconds / oursSeconds >= 1,
    },
  ];
  const influx = await startInfluxV1();
  const vm = await startVictoriaMetrics();
  try {
    // INFLUX_GZIP=auto (the default) sends loopback writes uncompressed; `gzip` forces it.
    const threshold = (url: string, force: boolean): number => (force || gzipFor(url, 'auto') ? 1_000 : Number.POSITIVE_INFINITY);
    const cases = [
      {
        server: 'InfluxDB 1.x',
        curlUrl: (db: string) => `${influx.url}/write?db=${db}&precision=s`,
        target: (force: boolean) => httpTarget({ kind: 'v1', url: influx.url }, { gzipThreshold: threshold(influx.url, force) }),
        prepare: async (db: string) => influxV1Client(influx.url).createDatabase(db),
      },
      {
        server: 'VictoriaMetrics',
        curlUrl: (db: string) => `${vm.url}/api/v2/write?bucket=${db}&precision=s`,
        target: (force: boolean) => httpTarget({ kind: 'v2', url: vm.url, token: 'x', org: 'o' }, { gzipThreshold: threshold(vm.url, force) }),
        prepare: async () => {},
      },
    ];
    for (const c of cases) {
      await c.prepare('curl');
      await c.prepare('homeflux');
      // Warm-up: the first write to an empty database creates its shards.
      await curlBatches(files.slice(0, 1), c.curlUrl('curl'));
      await writerBatches(lines.slice(0, BATCH), c.target(false), 'homeflux', dir);
      // Twice each, alternating, best of two: neither side always gets the quieter moment.
      let curlSeconds = Number.POSITIVE_INFINITY;
      let ourSeconds = Number.POSITIVE_INFINITY;
      for (let round = 0; round < 2; round++) {
        curlSeconds = Math.min(curlSeconds, await curlBatches(files, c.curlUrl('curl')));
        ourSeconds = Math.min(ourSeconds, await writerBatches(lines, c.target(false), 'homeflux', join(dir, 'spool')));
      }
      const gzipSeconds = await writerBatches(lines, c.target(true), 'homeflux', join(dir, 'spool'));
      const ratio = curlSeconds / ourSeconds;
      rows.push({ name: `ingest ${c.server}: curl`, value: `${Math.round(points / curlSeconds).toLocaleString('en-US')} points/s (${curlSeconds.toFixed(2)} s)` });
      rows.push({
        name: `ingest ${c.server}: homeflux writer`,
        value: `${Math.round(points / ourSeconds).toLocaleString('en-US')} points/s (${ourSeconds.toFixed(2)} s) = ${ratio.toFixed(2)} × curl`,
        target: '≥ 1.0 × curl',
        ok: ratio >= 1,
      });
      rows.push({
        name: `ingest ${c.server}: homeflux, gzip forced`,
        value: `${Math.round(points / gzipSeconds).toLocaleString('en-US')} points/s (${gzipSeconds.toFixed(2)} s) = ${(curlSeconds / gzipSeconds).toFixed(2)} × curl (uncompressed)`,
      });
    }
    await vmClient(vm.url).flush();
    // Memory: a fresh process streaming a million generated points (nothing else held).
    const memory = await new Promise<{ startMiB: number; peakMiB: number; seconds: number }>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/ingest-memory.ts', '--url', vm.url, '--points', String(points)], { maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as { startMiB: number; peakMiB: number; seconds: number }),
      );
    });
    const above = memory.peakMiB - memory.startMiB;
    rows.push({
      name: `ingest: ${points.toLocaleString('en-US')} points from a generator, writer stream → VictoriaMetrics`,
      value: `peak RSS ${Math.round(memory.peakMiB)} MiB = ${Math.round(above)} MiB above the start (${Math.round(memory.startMiB)} MiB); ${perSecond(memory.seconds)} generated, encoded and written`,
      target: '≤ 200 MiB above start',
      ok: above <= 200,
    });
  } finally {
    await influx.stop();
    await vm.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}


if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { points: { type: 'string' } } });
  printRows(await run({ points: values.points ? Number(values.points) : undefined }));
}
