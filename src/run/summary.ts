/**
 * The end-of-run report: a line per bucket and measurement (points, time range), and on
 * GitHub Actions a step-summary table.
 */
import type { WriteSummary } from '../database/sink.ts';
import type { Logger } from '../log.ts';
import type { DataRecord } from '../records.ts';

/** Points of one measurement in one bucket. */
export interface ReportRow {
  bucket: string;
  measurement: string;
  points: number;
  first: number;
  last: number;
}

/** Rows for records grouped by bucket and measurement, sorted. */
export function reportRows(records: readonly DataRecord[], bucketOf: (record: DataRecord) => string): ReportRow[] {
  const rows = new Map<string, ReportRow>();
  for (const record of records) {
    const bucket = bucketOf(record);
    const key = `${bucket}\u0000${record.measurement}`;
    const row = rows.get(key);
    if (row) {
      row.points++;
      row.first = Math.min(row.first, record.time);
      row.last = Math.max(row.last, record.time);
    } else {
      rows.set(key, { bucket, measurement: record.measurement, points: 1, first: record.time, last: record.time });
    }
  }
  return [...rows.values()].sort((a, b) => a.bucket.localeCompare(b.bucket) || a.measurement.localeCompare(b.measurement));
}

const iso = (t: number): string => new Date(t * 1000).toISOString().replace(':00.000Z', 'Z');

/** Print the report and the Actions step summary. */
export function printReport(log: Logger, options: { agent: string; sink: string; rows: ReportRow[]; summary: WriteSummary; replayed: WriteSummary; dryRun: boolean; problems: string[] }): void {
  const { rows, summary, replayed } = options;
  const verb = options.dryRun ? 'would write' : 'wrote';
  for (const row of rows) {
    log.info(`${options.agent}: ${verb} ${row.points} ${row.measurement} point(s) to ${row.bucket}, ${iso(row.first)} … ${iso(row.last)}`);
  }
  if (rows.length === 0) log.info(`${options.agent}: no records in the window`);
  if (replayed.written + replayed.spooled + replayed.rejected > 0) {
    log.info(`${options.agent}: replayed ${replayed.written} spooled line(s) into ${options.sink}${replayed.spooled ? `, ${replayed.spooled} still spooled` : ''}`);
  }
  if (!options.dryRun) {
    log.info(
      `${options.agent}: ${summary.written} line(s) written to ${options.sink}` +
        (summary.spooled ? `, ${summary.spooled} spooled for the next run` : '') +
        (summary.rejected ? `, ${summary.rejected} rejected (see the spool's rejected/ folder)` : ''),
    );
  }

  const table = [
    `### homeflux ${options.agent}${options.dryRun ? ' (dry run)' : ''}`,
    '',
    '| bucket | measurement | points | first | last |',
    '|---|---|---:|---|---|',
    ...rows.map((r) => `| ${r.bucket} | ${r.measurement} | ${r.points} | ${iso(r.first)} | ${iso(r.last)} |`),
    '',
    `Written: ${summary.written}, spooled: ${summary.spooled + replayed.spooled}, rejected: ${summary.rejected + replayed.rejected}, replayed: ${replayed.written}.`,
    ...(options.problems.length ? ['', '**Problems**', '', ...options.problems.map((p) => `- ${p}`)] : []),
    '',
  ];
  log.summary(table.join('\n'));
}
