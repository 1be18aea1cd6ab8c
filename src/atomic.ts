/**
 * Atomic file replacement: a reader (or the next run after a SIGKILL) sees the old file or the
 * new one, never a torn half.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of temporary files; readers skip files that start with it. */
export const TMP_PREFIX = '.tmp-';

/** Write `data` to `path` through a temporary file, fsync and rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `${TMP_PREFIX}${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  // Persist the rename itself; not every file system supports fsync on a directory.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    /* best effort */
  }
}
