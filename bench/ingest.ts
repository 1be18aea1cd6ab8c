/**
 * bench/ingest: 1,000,000 points through homeflux's writer into the real InfluxDB 1.x and the
 * real VictoriaMetrics, against curl posting the same pre-serialised 5,000-line batches.
 * Prints points/s for both, the ratio (target ≥ 0.8 × curl) and peak memory.
 *
 *   npx tsx bench/ingest.ts [--points 1000000]
 */
import { spawn } from 'node:child_process';
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

function makeLines(points: number): string[] {
  const lines: string[] = new Array(points);
  const series = 10;
  const start = Date.parse('2020-01-01T00:00:00Z') / 1000;
  for (let i = 0; i < points; i++) {
    const record = powerRecord(
      { time: start + Math.floor(i / series) * 60, timescale: 'minute', source: 'homeflux.bench', location: `meter_${i % series}` },
      { value: (i % 977) + 0.25, unit: 'Wh' },
    );
    lines[i] = toLineProtocol(record);
  }
  return lines;
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
  const rss0 = process.memoryUsage().rss;
  const serializeStart = performance.now();
  const lines = makeLines(points);
  const serialize = (performance.now() - serializeStart) / 1000;
  const files: string[] = [];
  for (let i = 0; i < lines.length; i += BATCH) {
    const file = join(dir, `batch-${i / BATCH}.lp`);
    await writeFile(file, lines.slice(i, i + BATCH).join('\n'));
    files.push(file);
  }
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const rows: BenchRow[] = [{ name: 'ingest: records → line protocol', value: `${Math.round(points / serialize).toLocaleString('en-US')} points/s` }];
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
      const curlSeconds = await curlBatches(files, c.curlUrl('curl'));
      const ourSeconds = await writerBatches(lines, c.target(false), 'homeflux', join(dir, 'spool'));
      const gzipSeconds = await writerBatches(lines, c.target(true), 'homeflux', join(dir, 'spool'));
      const ratio = curlSeconds / ourSeconds;
      rows.push({ name: `ingest ${c.server}: curl`, value: `${Math.round(points / curlSeconds).toLocaleString('en-US')} points/s (${curlSeconds.toFixed(2)} s)` });
      rows.push({
        name: `ingest ${c.server}: homeflux writer`,
        value: `${Math.round(points / ourSeconds).toLocaleString('en-US')} points/s (${ourSeconds.toFixed(2)} s) = ${ratio.toFixed(2)} × curl`,
        target: '≥ 0.8 × curl',
        ok: ratio >= 0.8,
      });
      rows.push({
        name: `ingest ${c.server}: homeflux, gzip forced`,
        value: `${Math.round(points / gzipSeconds).toLocaleString('en-US')} points/s (${gzipSeconds.toFixed(2)} s) = ${(curlSeconds / gzipSeconds).toFixed(2)} × curl (uncompressed)`,
      });
    }
    await vmClient(vm.url).flush();
  } finally {
    clearInterval(sampler);
    await influx.stop();
    await vm.stop();
    await rm(dir, { recursive: true, force: true });
  }
  rows.push({ name: 'ingest: peak RSS (1M lines in memory)', value: `${Math.round(peak / 2 ** 20)} MiB (start ${Math.round(rss0 / 2 ** 20)} MiB)` });
  return rows;
}


if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { points: { type: 'string' } } });
  printRows(await run({ points: values.points ? Number(values.points) : undefined }));
}
