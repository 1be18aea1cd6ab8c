/**
 * The backfill checkpoint: which work units of one range are written, so an interrupted
 * backfill resumes where it stopped. It lives in the spool directory (carried between
 * GitHub Actions runs with the spool) under `.backfill/`, which the spool's replay skips.
 *
 * Written atomically after every finished unit: a killed process leaves the previous state,
 * and at worst one unit is fetched and written again, which idempotent writes make harmless.
 */
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { SECRET_PATTERN } from '../../config.ts';
import { writeFileAtomic } from '../../atomic.ts';
import type { TimeWindow } from '../../window.ts';

/** What identifies a backfill: same agent, range, destination and (non-secret) settings. */
export interface CheckpointIdentity {
  agent: string;
  window: TimeWindow;
  config: Config;
  settings: unknown;
}

interface CheckpointFile {
  agent: string;
  window: TimeWindow;
  destination: string;
  done: string[];
  updated: string;
}

/** Where records go, without credentials. */
export function destinationOf(config: Config): string {
  const target = config.target;
  // The checkpoint lives in the spool (uploaded as an artifact on failure): never `user:password@`.
  const url = target.kind === 'file' ? '' : target.url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
  const where = target.kind === 'file' ? `file:${target.dataDir}` : `${target.kind}:${url}${target.kind === 'v2' && target.org ? ` org=${target.org}` : ''}`;
  return `${where} prefix=${config.bucketPrefix}`;
}

// Settings pick the data (an account, a location): a change must not reuse the checkpoint.
// Secret-looking keys are left out so no hash of a password is ever written to disk.
function publicSettings(settings: unknown): unknown {
  if (Array.isArray(settings)) return settings.map(publicSettings);
  if (typeof settings !== 'object' || settings === null) return settings;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(settings).sort()) if (!SECRET_PATTERN.test(key)) out[key] = publicSettings((settings as Record<string, unknown>)[key]);
  return out;
}

/** The checkpoint file of a backfill. */
export class Checkpoint {
  readonly path: string;
  private readonly done = new Set<string>();
  private readonly identity: Omit<CheckpointFile, 'done' | 'updated'>;

  constructor(identity: CheckpointIdentity) {
    const destination = destinationOf(identity.config);
    const hash = createHash('sha256')
      .update(JSON.stringify({ agent: identity.agent, window: identity.window, destination, settings: publicSettings(identity.settings), tz: identity.config.timezone, week: identity.config.weekStart, units: identity.config.units }))
      .digest('hex')
      .slice(0, 16);
    this.path = join(identity.config.spoolDir, '.backfill', `${identity.agent.replace(/[^A-Za-z0-9_.-]/g, '_')}-${hash}.json`);
    this.identity = { agent: identity.agent, window: identity.window, destination };
  }

  /** Read the file if there is one; returns the number of finished units it lists. */
  async load(): Promise<number> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      // No checkpoint yet: nothing finished.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return this.done.size;
    }
    let parsed: Partial<CheckpointFile>;
    try {
      parsed = JSON.parse(text) as Partial<CheckpointFile>;
    } catch {
      throw new Error(`backfill checkpoint ${this.path}: expected JSON, found ${JSON.stringify(text.slice(0, 60))}; delete it or run with --force`);
    }
    for (const key of parsed.done ?? []) if (typeof key === 'string') this.done.add(key);
    return this.done.size;
  }

  /** Whether the unit with this key was written by an earlier run. */
  has(key: string): boolean {
    return this.done.has(key);
  }

  /** Mark a unit written and persist. */
  async add(key: string): Promise<void> {
    this.done.add(key);
    const file: CheckpointFile = { ...this.identity, done: [...this.done].sort(), updated: new Date().toISOString() };
    await writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Remove the file (the backfill completed). */
  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}
