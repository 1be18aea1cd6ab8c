/**
 * What `scripts/setup.ts` wants to exist: one bucket (v2) or database (v1) per timescale,
 * `<prefix>-minute|hour|day|week|bill`, each with its retention (`HOMEFLUX_RETENTION_<TIMESCALE>`).
 */
import type { Env } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { bucketName, TIMESCALES, type Timescale } from '../records.ts';
import { parseDuration } from '../window.ts';

/** Retention when not configured: minute samples for 90 days, everything else forever. */
export const DEFAULT_RETENTION: Readonly<Record<Timescale, number>> = { minute: 90 * 86400, hour: 0, day: 0, week: 0, bill: 0 };

/** One bucket the schema needs. `retention` is in seconds; 0 means forever. */
export interface WantedBucket {
  name: string;
  timescale: Timescale;
  retention: number;
}

/** The environment variable holding a timescale's retention. */
export function retentionVariable(timescale: Timescale): string {
  return `HOMEFLUX_RETENTION_${timescale.toUpperCase()}`;
}

/** Parse a retention: a duration (`90d`, `52w`, `720h`) or `forever`/`infinite`/`inf`/`0`. */
export function parseRetention(text: string, variable: string): number {
  const value = text.trim().toLowerCase();
  if (['forever', 'infinite', 'inf', 'none', '0'].includes(value)) return 0;
  const seconds = parseDuration(value);
  if (seconds === undefined) throw new ConfigError(`${variable} is invalid: expected a duration such as 90d, 52w or 720h, or "forever"`, variable);
  // Both InfluxDB 1.x and 2.x refuse retention below one hour.
  if (seconds < 3600) throw new ConfigError(`${variable} is invalid: expected at least 1h (InfluxDB's minimum) or "forever"`, variable);
  return seconds;
}

/** The buckets to set up, from the prefix and the retention variables. */
export function wantedBuckets(prefix: string, env: Env): WantedBucket[] {
  return TIMESCALES.map((timescale) => {
    const variable = retentionVariable(timescale);
    const raw = env[variable];
    const retention = raw === undefined || raw.trim() === '' ? DEFAULT_RETENTION[timescale] : parseRetention(raw, variable);
    return { name: bucketName(prefix, timescale), timescale, retention };
  });
}

/** `90d`, `2w`, `36h`, `forever`. */
export function formatRetention(seconds: number): string {
  if (seconds === 0) return 'forever';
  if (seconds % 604800 === 0) return `${seconds / 604800}w`;
  if (seconds % 86400 === 0) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${seconds}s`;
}

/** What setup did (or would do) to one bucket. */
export interface BucketOutcome {
  name: string;
  action: 'created' | 'unchanged' | 'updated' | 'recreated';
  retention: number;
  /** Retention before an update. */
  previous?: number;
  /** InfluxDB 2.x: the InfluxQL (DBRP) mapping of the bucket's name was created. */
  mapping?: 'created';
}

/** A line for the outcome, e.g. `home-minute: created, retention 90d`. */
export function describeOutcome(outcome: BucketOutcome, dryRun: boolean): string {
  const line = describeAction(outcome, dryRun);
  return outcome.mapping === 'created' ? `${line}; InfluxQL mapping ${dryRun ? 'would be ' : ''}created (database "${outcome.name}", retention policy autogen)` : line;
}

function describeAction(outcome: BucketOutcome, dryRun: boolean): string {
  const retention = `retention ${formatRetention(outcome.retention)}`;
  switch (outcome.action) {
    case 'created':
      return `${outcome.name}: ${dryRun ? 'would create' : 'created'}, ${retention}`;
    case 'recreated':
      return `${outcome.name}: ${dryRun ? 'would delete and create again' : 'deleted and created again'}, ${retention}`;
    case 'updated':
      return `${outcome.name}: ${dryRun ? 'would change' : 'changed'} retention ${formatRetention(outcome.previous ?? 0)} → ${formatRetention(outcome.retention)}`;
    case 'unchanged':
      return `${outcome.name}: exists, ${retention} (unchanged)`;
  }
}
