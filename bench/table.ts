/**
 * The one table every benchmark reports into: a name, the measured figure, and the target it
 * is checked against, if any.
 */

/** One measured row. */
export interface BenchRow {
  name: string;
  value: string;
  target?: string;
  ok?: boolean;
}

/** Print rows as an aligned table with a verdict per target. */
export function printRows(rows: readonly BenchRow[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) console.log(`${r.name.padEnd(width)}  ${r.value}${r.target ? `  [target ${r.target}: ${r.ok ? 'met' : 'MISSED'}]` : ''}`);
}
