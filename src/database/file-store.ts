/**
 * The embedded default store: one line-protocol file per bucket under the data directory,
 * `<dataDir>/<bucket>.lp`. Points are deduplicated by series and time exactly as InfluxDB
 * does (fields of a later write replace the same fields of an earlier one), kept sorted by
 * time then series, and each file is replaced atomically — so running the same collection
 * twice leaves the files byte-identical. `scripts/replay.ts` sends them to InfluxDB later.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { fieldKey, splitFields, splitPairs } from './lineprotocol.ts';
import { emptySummary, type Sink, type WriteSummary } from './sink.ts';
import { SourceDataError } from '../errors.ts';

interface StoredPoint {
  series: string;
  time: string;
  /** The field set as written (our lines sort their fields), or merged pairs by key. */
  fields: string | Map<string, string>;
}

/** Path of a bucket's file. */
export function bucketFile(dataDir: string, bucket: string): string {
  return join(dataDir, `${bucket}.lp`);
}

/** Read a bucket file's lines (empty when the file doesn't exist). */
export async function readBucketFile(dataDir: string, bucket: string): Promise<string[]> {
  try {
    return (await readFile(bucketFile(dataDir, bucket), 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** A {@link Sink} writing to line-protocol files. */
export class FileStore implements Sink {
  readonly description: string;
  private readonly buckets = new Map<string, Map<string, StoredPoint>>();

  constructor(readonly dataDir: string) {
    this.description = `file store ${dataDir}`;
  }

  async write(bucket: string, lines: readonly string[]): Promise<WriteSummary> {
    const points = await this.load(bucket);
    for (const line of lines) merge(points, line, `line for ${bucket}`);
    await writeFileAtomic(bucketFile(this.dataDir, bucket), serialize(points));
    return { ...emptySummary(), written: lines.length };
  }

  async replay(): Promise<WriteSummary> {
    return emptySummary();
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }

  // Loaded once per run and kept: a backfill writing chunk after chunk re-reads nothing.
  private async load(bucket: string): Promise<Map<string, StoredPoint>> {
    let points = this.buckets.get(bucket);
    if (points) return points;
    points = new Map();
    const file = bucketFile(this.dataDir, bucket);
    for (const [index, line] of (await readBucketFile(this.dataDir, bucket)).entries()) merge(points, line, `${file} line ${index + 1}`);
    this.buckets.set(bucket, points);
    return points;
  }
}

function merge(points: Map<string, StoredPoint>, line: string, where: string): void {
  const split = splitFields(line);
  if (!split) throw new SourceDataError(`${where} is not valid line protocol`, line.slice(0, 200));
  const key = `${split.series} ${split.time}`;
  const point = points.get(key);
  // Most lines are new points, or the very same point again (a re-run): keep the text as is.
  if (!point) {
    points.set(key, { series: split.series, time: split.time, fields: split.fields });
    return;
  }
  if (point.fields === split.fields) return;
  // A different write of the same point: fields merge as InfluxDB merges them.
  const pairs = typeof point.fields === 'string' ? pairsByKey(point.fields) : point.fields;
  for (const [field, pair] of pairsByKey(split.fields)) pairs.set(field, pair);
  point.fields = pairs;
}

function pairsByKey(fields: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of splitPairs(fields)) pairs.set(fieldKey(pair), pair);
  return pairs;
}

function serialize(points: Map<string, StoredPoint>): string {
  const sorted = [...points.values()].sort((a, b) => Number(a.time) - Number(b.time) || (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
  let out = '';
  for (const point of sorted) {
    const fields = typeof point.fields === 'string' ? point.fields : [...point.fields.keys()].sort().map((k) => (point.fields as Map<string, string>).get(k)!).join(',');
    out += `${point.series} ${fields} ${point.time}\n`;
  }
  return out;
}
