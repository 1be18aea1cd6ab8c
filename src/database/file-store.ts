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
import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.ts';
import { fieldKey, splitFields, splitPairs } from '../lineprotocol.ts';
import { emptySummary, type Sink, type WriteSummary } from './sink.ts';
import { SourceDataError } from '../errors.ts';

interface StoredPoint {
  series: string;
  time: string;
  /** The field set as written (our lines sort their fields), or merged pairs by key. */
  fields: string | Map<string, string>;
}

// `2026-01.lp` is a month's base file; `2026-01+000003.lp` its third appended segment.
const MONTH_FILE = /^(\d{4}-\d{2})(?:\+(\d{6}))?\.lp$/;
/** Appended segments a month may gather before the next write merges them into its base file. */
export const MAX_SEGMENTS = 32;

/** Directory of a bucket's partitions. */
export function bucketDir(dataDir: string, bucket: string): string {
  return join(dataDir, bucket);
}

/** Path of one month's partition (`month` = `YYYY-MM`, UTC). */
export function partitionFile(dataDir: string, bucket: string, month: string): string {
  return join(dataDir, bucket, `${month}.lp`);
}

/** Path of a bucket's file in the earlier single-file layout. */
export function legacyBucketFile(dataDir: string, bucket: string): string {
  return join(dataDir, `${bucket}.lp`);
}

/** UTC month (`YYYY-MM`) of a timestamp in seconds, as line protocol writes it. */
export function monthOf(seconds: number): string {
  const d = new Date(seconds * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  return `${y < 0 ? '-' : ''}${String(Math.abs(y)).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}`;
}

// The timestamp is the last space-separated token of a line (string fields may hold spaces).
function timeOfLine(line: string): number {
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Months (`YYYY-MM`, sorted) a bucket has partitions for. */
export async function bucketMonths(dataDir: string, bucket: string): Promise<string[]> {
  try {
    return [...new Set((await readdir(bucketDir(dataDir, bucket))).flatMap((f) => MONTH_FILE.exec(f)?.[1] ?? []))].sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

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
  let months = await bucketMonths(dataDir, bucket);
  if (range) {
    const first = monthOf(range.start);
    const last = monthOf(range.end - 1);
    months = months.filter((m) => m >= first && m <= last);
  }
  return months.map((month) => {
    const file = partitionFile(dataDir, bucket, month);
    return { month, file, lines: async () => (await readMonth(dataDir, bucket, month)).lines };
  });
}

/** The appended segment files of a month, oldest first. */
async function segmentsOf(dataDir: string, bucket: string, month: string): Promise<{ n: number; file: string }[]> {
  let names: string[];
  try {
    names = await readdir(bucketDir(dataDir, bucket));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .flatMap((name) => {
      const m = MONTH_FILE.exec(name);
      return m && m[1] === month && m[2] !== undefined ? [{ n: Number(m[2]), file: join(dataDir, bucket, name) }] : [];
    })
    .sort((a, b) => a.n - b.n);
}

/**
 * A month's lines: its base file, then each segment that starts after everything before it. A
 * segment that does not was already merged into the base (a run stopped between writing the
 * base and removing the segments): it is skipped, and removed by the next merge.
 */
async function readMonth(dataDir: string, bucket: string, month: string): Promise<{ lines: string[]; segments: { n: number; file: string }[] }> {
  const lines = await readLines(partitionFile(dataDir, bucket, month));
  const segments = await segmentsOf(dataDir, bucket, month);
  let last = lines.length > 0 ? timeOfLine(lines[lines.length - 1]!) : -Infinity;
  for (const segment of segments) {
    const more = await readLines(segment.file);
    if (more.length === 0 || !(timeOfLine(more[0]!) > last)) continue;
    for (const line of more) lines.push(line);
    last = timeOfLine(more[more.length - 1]!);
  }
  return { lines, segments };
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
  if (byMonth.size > 0) await mkdir(bucketDir(dataDir, bucket), { recursive: true });
  for (const [month, indexes] of [...byMonth.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const file = partitionFile(dataDir, bucket, month);
    const segments = await segmentsOf(dataDir, bucket, month);
    // New points all later than the month's last one (a run collecting the latest samples)
    // cannot collide with a stored point: sorted among themselves, they become a new segment
    // file, and the month is not read at all.
    if (segments.length < MAX_SEGMENTS) {
      const last = await lastTimeOf([file, ...segments.map((x) => x.file)]);
      if (last !== undefined && indexes.every((i) => timeOfLine(lines[i]!) > last)) {
        const fresh = new Map<string, StoredPoint>();
        for (const index of indexes) merge(fresh, lines[index]!, where(index));
        const n = (segments[segments.length - 1]?.n ?? 0) + 1;
        await writeFileAtomic(join(dataDir, bucket, `${month}+${String(n).padStart(6, '0')}.lp`), serialize(fresh));
        continue;
      }
    }
    const stored = await readMonth(dataDir, bucket, month);
    const points = new Map<string, StoredPoint>();
    stored.lines.forEach((line, i) => merge(points, line, `${file} line ${i + 1}`));
    for (const index of indexes) merge(points, lines[index]!, where(index));
    const text = serialize(points);
    // Nothing new (a re-run): leave the files exactly as they are.
    if (stored.lines.length > 0 && text.length === stored.lines.reduce((n, l) => n + l.length + 1, 0) && text === `${stored.lines.join('\n')}\n`) continue;
    await writeFileAtomic(file, text);
    for (const segment of stored.segments) await unlink(segment.file).catch(() => undefined);
  }
}

// The latest time over the last lines of `files` (the month's base and segments); undefined
// when none has a readable last line (then the month is merged instead).
async function lastTimeOf(files: readonly string[]): Promise<number | undefined> {
  let last: number | undefined;
  for (const file of files) {
    const time = await lastTime(file);
    if (time !== undefined && (last === undefined || time > last)) last = time;
  }
  return last;
}

// The time of a file's last line, from its last few kilobytes; undefined when the file is
// missing, empty, or its end is not one of our lines.
async function lastTime(file: string): Promise<number | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    if (!text.endsWith('\n')) return undefined;
    const start = text.lastIndexOf('\n', text.length - 2) + 1;
    if (start === 0 && length < size) return undefined; // a last line longer than the tail read
    const line = text.slice(start, -1);
    const time = timeOfLine(line);
    return splitFields(line) && Number.isFinite(time) ? time : undefined;
  } finally {
    await handle.close();
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
