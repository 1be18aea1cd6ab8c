/**
 * What the run pipeline writes to: the file store or an InfluxDB behind the retrying writer.
 */

/** Outcome of writing (or replaying) lines. */
export interface WriteSummary {
  /** Lines the database (or file store) accepted. */
  written: number;
  /** Lines put in the spool for the next run. */
  spooled: number;
  /** Lines the database refused; kept in `spool/rejected/` with its reason. */
  rejected: number;
  /** Why writing stopped early (auth refused, retry budget spent), if it did. */
  failure?: string;
}

/** A place records go. */
export interface Sink {
  /** For messages, e.g. `file store ./data` or `InfluxDB v1 API at http://host:8086`. */
  readonly description: string;
  /** Write lines of one bucket. Never throws for database trouble: it spools and says so. */
  write(bucket: string, lines: readonly string[]): Promise<WriteSummary>;
  /** Send what earlier runs spooled; a no-op for the file store. */
  replay(): Promise<WriteSummary>;
  close(): Promise<void>;
}

/** Whether everything was written: nothing spooled, nothing rejected, no failure — the one rule for "complete". */
export function isComplete(...summaries: WriteSummary[]): boolean {
  return summaries.every((s) => s.spooled === 0 && s.rejected === 0 && s.failure === undefined);
}

/** An empty summary. */
export function emptySummary(): WriteSummary {
  return { written: 0, spooled: 0, rejected: 0 };
}

/** Add `b` into `a` (keeps the first failure). */
export function addSummary(a: WriteSummary, b: WriteSummary): WriteSummary {
  a.written += b.written;
  a.spooled += b.spooled;
  a.rejected += b.rejected;
  if (a.failure === undefined && b.failure !== undefined) a.failure = b.failure;
  return a;
}
