/**
 * The spool: line-protocol files of what could not be written, replayed first by the next run,
 * and `rejected/` for lines the database refused with its reason.
 *
 * Layout: `<spool>/<bucket>/<time>-<pid>-<n>.lp` and `<spool>/rejected/<bucket>/<time>-<pid>-<n>.lp`.
 * Files are written atomically, so a killed process never leaves a torn file behind.
 *
 * Spooling merges: every run that cannot reach the database spools its whole lookback again,
 * so each `add` folds the bucket's spooled files and the new lines into one file holding each
 * point (series and time) once — a week-long outage is one copy of each point, not 168. The
 * new file is written before the old ones are removed: a run killed in between leaves a point
 * in two files, which the next `add` or replay folds again (writing a point twice is harmless).
 * Past `maxBytes` the oldest points of the bucket being spooled are dropped and the caller is
 * told which, so that it can say so loudly.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_PREFIX, writeFileAtomic } from '../atomic.ts';
import { timeOfLine } from './partitions.ts';
import { PointSet } from './points.ts';

/** A spooled file awaiting replay. */
export interface SpoolFile {
  bucket: string;
  path: string;
}

/** A line the database refused, and why. */
export interface RejectedLine {
  line: string;
  reason: string;
}

let sequence = 0;
function fileName(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${process.pid}-${String(++sequence).padStart(4, '0')}.lp`;
}

/** What an {@link Spool.add} left in the spool. */
export interface SpoolAdd {
  /** The bucket's one spool file now. */
  path: string;
  /** Distinct points (series and time) the bucket has spooled. */
  points: number;
  /** Points dropped to keep the spool under its cap: how many, and their time range (Unix s). */
  dropped?: { count: number; from: number; to: number };
}

/** Options of a {@link Spool}. */
export interface SpoolOptions {
  /** Size cap of the whole spool in bytes (default: none). */
  maxBytes?: number;
}

/** The spool directory of one run. */
export class Spool {
  // Adds to one bucket run one after another: two batches spooled at once must not each fold
  // the other's file away.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly options: SpoolOptions = {},
  ) {}

  /** Spool lines for a bucket, merged with what the bucket has spooled already. */
  add(bucket: string, lines: readonly string[]): Promise<SpoolAdd> {
    const next = this.queue.then(() => this.merge(bucket, lines));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async merge(bucket: string, lines: readonly string[]): Promise<SpoolAdd> {
    const old = (await this.files()).filter((f) => f.bucket === bucket);
    const points = new PointSet();
    for (const file of old) for (const [i, line] of (await this.read(file)).entries()) points.add(line, `spool file ${file.path} line ${i + 1}`);
    for (const [i, line] of lines.entries()) points.add(line, `line ${i + 1} spooled for ${bucket}`);
    let merged = points.lines();
    let dropped: SpoolAdd['dropped'];
    if (this.options.maxBytes !== undefined) {
      const others = await this.bytesExcept(bucket);
      let bytes = merged.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      let cut = 0;
      // Sorted by time: the oldest go first (the newest are what the next run still needs).
      while (cut < merged.length && others + bytes > this.options.maxBytes) bytes -= Buffer.byteLength(merged[cut++]!) + 1;
      if (cut > 0) {
        dropped = { count: cut, from: timeOfLine(merged[0]!), to: timeOfLine(merged[cut - 1]!) };
        merged = merged.slice(cut);
      }
    }
    const path = join(this.dir, bucket, fileName());
    if (merged.length > 0) await writeFileAtomic(path, `${merged.join('\n')}\n`);
    for (const file of old) await rm(file.path, { force: true });
    return { path, points: merged.length, ...(dropped ? { dropped } : {}) };
  }

  /** Bytes of every spooled file except the bucket's own. */
  private async bytesExcept(bucket: string): Promise<number> {
    let total = 0;
    for (const file of await this.files()) if (file.bucket !== bucket) total += (await stat(file.path)).size;
    return total;
  }

  /** Keep refused lines with the server's reason as comments above each. */
  async reject(bucket: string, lines: readonly RejectedLine[]): Promise<string> {
    const path = join(this.dir, 'rejected', bucket, fileName());
    const body = lines.map((r) => `# ${r.reason.replace(/[\r\n]+/g, ' ')}\n${r.line}\n`).join('');
    await writeFileAtomic(path, body);
    return path;
  }

  /** Spooled files in the order they were written (oldest first). */
  async files(): Promise<SpoolFile[]> {
    const out: SpoolFile[] = [];
    for (const bucket of await listDir(this.dir)) {
      if (bucket === 'rejected' || bucket.startsWith('.')) continue;
      for (const name of await listDir(join(this.dir, bucket))) {
        if (name.endsWith('.lp') && !name.startsWith(TMP_PREFIX)) out.push({ bucket, path: join(this.dir, bucket, name) });
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Rejected files (for reports and tests). */
  async rejectedFiles(): Promise<string[]> {
    const out: string[] = [];
    const root = join(this.dir, 'rejected');
    for (const bucket of await listDir(root)) {
      for (const name of await listDir(join(root, bucket))) if (name.endsWith('.lp') && !name.startsWith(TMP_PREFIX)) out.push(join(root, bucket, name));
    }
    return out.sort();
  }

  /** Lines of a spooled file. */
  async read(file: SpoolFile): Promise<string[]> {
    return (await readFile(file.path, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  }

  /** Replace a spooled file with the lines still unwritten, or delete it when none are. */
  async settle(file: SpoolFile, remaining: readonly string[]): Promise<void> {
    if (remaining.length === 0) await rm(file.path, { force: true });
    else await writeFileAtomic(file.path, `${remaining.join('\n')}\n`);
  }
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    // Missing, or a stray file where a bucket folder would be (e.g. a note someone left).
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}
