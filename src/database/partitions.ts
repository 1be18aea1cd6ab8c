/**
 * The file store's layout on disk: `<dataDir>/<bucket>/<YYYY-MM>.lp` per UTC month, appended
 * segments beside it (`<YYYY-MM>+000001.lp`), and the earlier single-file layout
 * (`<dataDir>/<bucket>.lp`); reading a month (base and valid segments) and the time of a file's
 * last line without reading the whole file.
 */
import { type FileHandle, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { splitFields } from '../lineprotocol.ts';

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

/** A line's timestamp: its last space-separated token (string fields may hold spaces). */
export function timeOfLine(line: string): number {
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** A file's lines without blanks and comments; none when it does not exist. */
export async function readLines(file: string): Promise<string[]> {
  try {
    return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '' && !line.startsWith('#'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** An appended segment file of a month. */
export interface Segment {
  n: number;
  file: string;
}

/**
 * A bucket's months (`YYYY-MM`, sorted) with their appended segments (oldest first), from one
 * listing of its directory; empty when it has none.
 */
export async function listBucket(dataDir: string, bucket: string): Promise<Map<string, Segment[]>> {
  let names: string[];
  try {
    names = await readdir(bucketDir(dataDir, bucket));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const months = new Map<string, Segment[]>();
  for (const name of names) {
    const m = MONTH_FILE.exec(name);
    if (!m) continue;
    const segments = months.get(m[1]!) ?? [];
    if (m[2] !== undefined) segments.push({ n: Number(m[2]), file: join(dataDir, bucket, name) });
    months.set(m[1]!, segments);
  }
  for (const segments of months.values()) segments.sort((a, b) => a.n - b.n);
  return new Map([...months.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Months (`YYYY-MM`, sorted) a bucket has partitions for. */
export async function bucketMonths(dataDir: string, bucket: string): Promise<string[]> {
  return [...(await listBucket(dataDir, bucket)).keys()];
}

/**
 * A month's lines: its base file, then each segment that starts after everything before it. A
 * segment that does not was already merged into the base (a run stopped between writing the
 * base and removing the segments): it is skipped, and removed by the next merge.
 */
export async function readMonth(dataDir: string, bucket: string, month: string, segments: readonly Segment[]): Promise<string[]> {
  const lines = await readLines(partitionFile(dataDir, bucket, month));
  let last = lines.length > 0 ? timeOfLine(lines[lines.length - 1]!) : -Infinity;
  for (const segment of segments) {
    const more = await readLines(segment.file);
    if (more.length === 0 || !(timeOfLine(more[0]!) > last)) continue;
    for (const line of more) lines.push(line);
    last = timeOfLine(more[more.length - 1]!);
  }
  return lines;
}

// The latest time over the last lines of `files` (the month's base and segments); undefined
// when none has a readable last line (then the month is merged instead).
export async function lastTimeOf(files: readonly string[]): Promise<number | undefined> {
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
