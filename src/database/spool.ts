/**
 * The spool: line-protocol files of what could not be written, replayed first by the next run,
 * and `rejected/` for lines the database refused with its reason.
 *
 * Layout: `<spool>/<bucket>/<time>-<pid>-<n>.lp` and `<spool>/rejected/<bucket>/<time>-<pid>-<n>.lp`.
 * Files are written atomically, so a killed process never leaves a torn file behind.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_PREFIX, writeFileAtomic } from '../atomic.ts';

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

/** The spool directory of one run. */
export class Spool {
  constructor(readonly dir: string) {}

  /** Spool lines for a bucket; returns the file written. */
  async add(bucket: string, lines: readonly string[]): Promise<string> {
    const path = join(this.dir, bucket, fileName());
    await writeFileAtomic(path, `${lines.join('\n')}\n`);
    return path;
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
