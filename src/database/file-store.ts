/**
 * The embedded default store: line-protocol files under the data directory, partitioned by
 * bucket and UTC month of the point — `<dataDir>/<bucket>/<YYYY-MM>.lp`. Points are
 * deduplicated by series and time exactly as InfluxDB does (fields of a later write replace the
 * same fields of an earlier one), kept sorted by time then series, and each partition is
 * replaced atomically — so running the same collection twice leaves the files byte-identical.
 *
 * A write loads and rewrites only the months it touches, so its cost follows the size of the
 * write, not of the store. A write of points all later than a month's last one (the latest
 * samples, what an hourly or watch run mostly writes) goes to a small segment file beside the
 * month (`2026-01+000001.lp`) without reading the month; the next write that must merge (or the
 * 33rd segment) folds the segments into the month's base file. A write that changes nothing
 * leaves the files as they are.
 * A store in the earlier single-file layout (`<dataDir>/<bucket>.lp`) is split into months the
 * first time its bucket is used; the old file is removed only after every month is written, so
 * an interrupted conversion simply runs again (merging is idempotent).
 * `scripts/replay.ts --store` sends the store to InfluxDB later.
 */
import type { Dirent } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic.ts';
import { bucketDir, bucketMonths, lastTimeOf, legacyBucketFile, listBucket, MAX_SEGMENTS, monthOf, partitionFile, readLines, readMonth, timeOfLine } from './partitions.ts';
import { PointSet } from './points.ts';
import { emptySummary, type Sink, type WriteSummary } from './sink.ts';
import { SourceDataError } from '../errors.ts';

/**
 * A bucket's lines, month by month in time order (empty when it has none). With `range`
 * (Unix seconds, end exclusive) only the months overlapping it are read; the lines are not
 * filtered within a month.
 */
export async function readBucketFile(dataDir: string, bucket: string, range?: { start: number; end: number }): Promise<string[]> {
  const out: string[] = [];
  for (const partition of await partitionsOf(dataDir, bucket, range)) for (const line of await partition.lines()) out.push(line);
  return out;
}

/** One month partition: its file and a way to read its lines. */
export interface Partition {
  month: string;
  file: string;
  lines(): Promise<string[]>;
}

/** A bucket's month partitions in time order, only those overlapping `range` when given (converting a legacy file first). */
export async function partitionsOf(dataDir: string, bucket: string, range?: { start: number; end: number }): Promise<Partition[]> {
  await convertLegacy(dataDir, bucket);
  const first = range ? monthOf(range.start) : '';
  const last = range ? monthOf(range.end - 1) : '\uffff';
  return [...(await listBucket(dataDir, bucket)).entries()]
    .filter(([month]) => month >= first && month <= last)
    .map(([month, segments]) => ({ month, file: partitionFile(dataDir, bucket, month), lines: () => readMonth(dataDir, bucket, month, segments) }));
}

/** Buckets the store holds (both layouts), sorted. */
export async function storedBuckets(dataDir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dataDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const names = new Set<string>();
  for (const e of entries) {
    if (e.isFile() && e.name.endsWith('.lp')) names.add(e.name.slice(0, -3));
    else if (e.isDirectory() && (await bucketMonths(dataDir, e.name)).length > 0) names.add(e.name);
  }
  return [...names].sort();
}

// Conversions under way, so concurrent users of one bucket convert it once.
const converting = new Map<string, Promise<void>>();

/** Split a single-file bucket (`<bucket>.lp`) into month partitions, losing nothing; a no-op when there is none. */
export function convertLegacy(dataDir: string, bucket: string): Promise<void> {
  const file = legacyBucketFile(dataDir, bucket);
  let done = converting.get(file);
  if (!done) {
    done = (async () => {
      const lines = await readLines(file);
      if (lines.length === 0) {
        await unlink(file).catch(() => undefined);
        return;
      }
      await writeMonths(dataDir, bucket, lines, (index) => `${file} line ${index + 1}`);
      await unlink(file);
    })().finally(() => converting.delete(file));
    converting.set(file, done);
  }
  return done;
}

// Merge lines into the partitions of the months they fall in; each month read and replaced once.
async function writeMonths(dataDir: string, bucket: string, lines: readonly string[], where: (index: number) => string): Promise<void> {
  const byMonth = new Map<string, number[]>();
  lines.forEach((line, index) => {
    const time = timeOfLine(line);
    if (!Number.isFinite(time)) throw new SourceDataError(`${where(index)} is not valid line protocol`, line.slice(0, 200));
    const month = monthOf(time);
    let list = byMonth.get(month);
    if (!list) byMonth.set(month, (list = []));
    list.push(index);
  });
  if (byMonth.size === 0) return;
  await mkdir(bucketDir(dataDir, bucket), { recursive: true });
  const listing = await listBucket(dataDir, bucket);
  for (const [month, indexes] of [...byMonth.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = partitionFile(dataDir, bucket, month);
    const segments = listing.get(month) ?? [];
    // New points all later than the month's last one (a run collecting the latest samples)
    // cannot collide with a stored point: sorted among themselves, they become a new segment
    // file, and the month is not read at all.
    if (segments.length < MAX_SEGMENTS) {
      const last = await lastTimeOf([file, ...segments.map((x) => x.file)]);
      if (last !== undefined && indexes.every((i) => timeOfLine(lines[i]!) > last)) {
        const fresh = new PointSet();
        for (const index of indexes) fresh.add(lines[index]!, where(index));
        const n = (segments[segments.length - 1]?.n ?? 0) + 1;
        await writeFileAtomic(join(dataDir, bucket, `${month}+${String(n).padStart(6, '0')}.lp`), fresh.text());
        continue;
      }
    }
    const stored = await readMonth(dataDir, bucket, month, segments);
    const points = new PointSet();
    stored.forEach((line, i) => points.add(line, `${file} line ${i + 1}`));
    for (const index of indexes) points.add(lines[index]!, where(index));
    const text = points.text();
    // Nothing new (a re-run): leave the files exactly as they are.
    if (stored.length > 0 && text === `${stored.join('\n')}\n`) continue;
    await writeFileAtomic(file, text);
    for (const segment of segments) await unlink(segment.file).catch(() => undefined);
  }
}

/** A {@link Sink} writing to month-partitioned line-protocol files. */
export class FileStore implements Sink {
  readonly description: string;

  constructor(readonly dataDir: string) {
    this.description = `file store ${dataDir}`;
  }

  async write(bucket: string, lines: readonly string[]): Promise<WriteSummary> {
    await convertLegacy(this.dataDir, bucket);
    await writeMonths(this.dataDir, bucket, lines, () => `line for ${bucket}`);
    return { ...emptySummary(), written: lines.length };
  }

  async replay(): Promise<WriteSummary> {
    return emptySummary();
  }

  async close(): Promise<void> {}
}
