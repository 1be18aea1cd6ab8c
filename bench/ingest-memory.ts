/**
 * bench/ingest-memory: writes N points from a generator (records built one at a time,
 * encoded to line protocol, handed to the writer's stream) into the database at --url, and
 * prints JSON with the process's RSS at start and at its peak. Run by bench/ingest.ts as its own
 * process, so that nothing else the benchmark holds counts.
 *
 *   npx tsx bench/ingest-memory.ts --url http://127.0.0.1:8428 --api v2 [--points 1000000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { httpTarget } from '../src/database/influx-http.ts';
import { Spool } from '../src/database/spool.ts';
import { HttpWriter } from '../src/database/writer.ts';
import { toLineProtocol } from '../src/lineprotocol.ts';
import { Logger } from '../src/log.ts';
import { powerRecord } from '../src/records.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, api: { type: 'string', default: 'v2' }, points: { type: 'string', default: '1000000' } } });
const points = Number(values.points);
const url = values.url!;

function* lines(): Generator<string> {
  const start = Date.parse('2021-01-01T00:00:00Z') / 1000;
  for (let i = 0; i < points; i++) {
    yield toLineProtocol(powerRecord({ time: start + Math.floor(i / 10) * 60, timescale: 'minute', source: 'homeflux.bench', location: `meter_${i % 10}` }, { value: (i % 977) + 0.25, unit: 'Wh' }));
  }
}

globalThis.gc?.();
const startRss = process.memoryUsage().rss;
let peak = startRss;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const dir = await mkdtemp(join(tmpdir(), 'bench-ingest-memory-'));
const target = values.api === 'v1' ? httpTarget({ kind: 'v1', url }, { gzipThreshold: Number.POSITIVE_INFINITY }) : httpTarget({ kind: 'v2', url, token: 'x', org: 'o' }, { gzipThreshold: Number.POSITIVE_INFINITY });
const writer = new HttpWriter(target, { spool: new Spool(dir), log: new Logger({ env: {}, streams: { out: () => {}, err: (l) => console.error(l) } }) });
const started = performance.now();
const summary = await writer.writeStream('stream', lines());
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
await rm(dir, { recursive: true, force: true });
if (summary.written !== points) throw new Error(`wrote ${summary.written} of ${points}: ${summary.failure ?? ''}`);
console.log(JSON.stringify({ startMiB: startRss / 2 ** 20, peakMiB: peak / 2 ** 20, seconds }));
