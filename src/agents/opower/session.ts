/**
 * The sealed session file of a sign-in that is kept between runs (the Exelon group's refresh
 * token and account): `opower-{utility}-session.sealed` in the data directory, or
 * `OPOWER_SESSION_FILE`. Sealed with `HOMEFLUX_STATE_KEY` (src/state-crypto.ts), so a cache or a
 * branch that carries it holds only ciphertext. Written atomically (a temp file, then rename),
 * mode 0600.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AuthError } from '../../errors.ts';
import { SealedStateError, seal, unseal } from '../../state-crypto.ts';
import type { SessionStore } from './utilities.ts';

/** Where a utility's session is kept by default. */
export function sessionPath(dataDir: string, utilityId: string): string {
  return path.join(dataDir, `opower-${utilityId}-session.sealed`);
}

/**
 * The store of one session file under `key`; `dryRun` reads but never writes. A file that cannot
 * be opened is an AuthError saying what to do (the key is never in it).
 */
export function sealedSession(file: string, key: string, options: { dryRun?: boolean } = {}): SessionStore {
  return {
    where: file,
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new AuthError(`the kept Opower session ${file} cannot be read: ${(error as Error).message}`);
      }
      try {
        return unseal(text, key, file) as Record<string, unknown>;
      } catch (error) {
        if (error instanceof SealedStateError) throw new AuthError(`${error.message} — check HOMEFLUX_STATE_KEY, or run \`npx tsx scripts/opower.ts --login\` again to make a new one`);
        throw error;
      }
    },
    async save(value) {
      if (options.dryRun) return;
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, seal(value, key), { mode: 0o600 });
      await rename(temp, file);
    },
  };
}
