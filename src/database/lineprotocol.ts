/**
 * Just enough line-protocol parsing to merge and count lines we wrote ourselves (file store,
 * spool, replay): split a line into series key, field set and timestamp, honouring escapes and
 * quoted strings.
 */

/** A line split into its three parts. */
export interface SplitLine {
  /** Measurement and tags, escaped as written. */
  series: string;
  /** `key=value` pairs, escaped as written. */
  fields: string[];
  /** Timestamp as written (seconds for our lines). */
  time: string;
}

/** Split a line; returns undefined for blank lines, comments and lines that don't parse. */
export function splitLine(line: string): SplitLine | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  let i = 0;
  // Series key ends at the first unescaped space.
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === ' ') break;
  }
  if (i >= line.length) return undefined;
  const series = line.slice(0, i);
  const fields: string[] = [];
  let start = ++i;
  let quoted = false;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ',' || c === ' ')) {
      fields.push(line.slice(start, i));
      start = i + 1;
      if (c === ' ') break;
    }
  }
  if (i >= line.length) return undefined;
  const time = line.slice(i + 1);
  if (!/^-?\d+$/.test(time) || fields.length === 0) return undefined;
  return { series, fields, time };
}

/** The key of a field pair (`power_usage=1.5` → `power_usage`). */
export function fieldKey(pair: string): string {
  for (let i = 0; i < pair.length; i++) {
    if (pair[i] === '\\') i++;
    else if (pair[i] === '=') return pair.slice(0, i);
  }
  return pair;
}

/** The measurement of a series key, unescaped enough for reports. */
export function measurementOf(series: string): string {
  for (let i = 0; i < series.length; i++) {
    if (series[i] === '\\') i++;
    else if (series[i] === ',') return series.slice(0, i).replace(/\\(.)/g, '$1');
  }
  return series.replace(/\\(.)/g, '$1');
}
