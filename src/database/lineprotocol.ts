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
  // Fast path for the common line without escapes or string fields: three index lookups.
  if (!line.includes('\\') && !line.includes('"')) {
    const first = line.indexOf(' ');
    const last = line.lastIndexOf(' ');
    if (first <= 0 || last <= first + 1) return undefined;
    const time = line.slice(last + 1);
    if (!/^-?\d+$/.test(time)) return undefined;
    return { series: line.slice(0, first), fields: line.slice(first + 1, last).split(','), time };
  }
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
  // Field pairs: a key up to an unescaped '=', then a value; only a value can be quoted
  // (a '"' inside a key is an ordinary character).
  let pos = i + 1;
  for (;;) {
    const start = pos;
    while (pos < line.length && line[pos] !== '=') pos += line[pos] === '\\' ? 2 : 1;
    if (pos >= line.length) return undefined;
    pos++;
    if (line[pos] === '"') {
      pos++;
      while (pos < line.length && line[pos] !== '"') pos += line[pos] === '\\' ? 2 : 1;
      if (pos >= line.length) return undefined;
      pos++;
    } else {
      while (pos < line.length && line[pos] !== ',' && line[pos] !== ' ') pos++;
    }
    fields.push(line.slice(start, pos));
    if (line[pos] === ',') {
      pos++;
      continue;
    }
    if (line[pos] !== ' ') return undefined;
    break;
  }
  const time = line.slice(pos + 1);
  if (!/^-?\d+$/.test(time)) return undefined;
  return { series, fields, time };
}

/** A line as series key, field set text and timestamp; the field set is not split. */
export interface LineParts {
  series: string;
  fields: string;
  time: string;
}

/**
 * Split a line into series, field set and time without splitting the fields: the timestamp
 * follows the last space (it has none), and without backslashes the series ends at the first.
 */
export function splitFields(line: string): LineParts | undefined {
  if (line === '' || line.startsWith('#')) return undefined;
  if (line.includes('\\')) {
    const split = splitLine(line);
    if (!split) return undefined;
    return { series: split.series, fields: split.fields.join(','), time: split.time };
  }
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  if (first <= 0 || last <= first + 1) return undefined;
  const time = line.slice(last + 1);
  const fields = line.slice(first + 1, last);
  if (!/^-?\d+$/.test(time) || !fields.includes('=')) return undefined;
  return { series: line.slice(0, first), fields, time };
}

/** The `key=value` pairs of a field set (commas inside quoted values kept). */
export function splitPairs(fields: string): string[] {
  return splitLine(`m ${fields} 0`)?.fields ?? [fields];
}

/** The key of a field pair (`power_usage=1.5` → `power_usage`). */
export function fieldKey(pair: string): string {
  for (let i = 0; i < pair.length; i++) {
    if (pair[i] === '\\') i++;
    else if (pair[i] === '=') return pair.slice(0, i);
  }
  return pair;
}
