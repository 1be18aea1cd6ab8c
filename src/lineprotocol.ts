/**
 * Line protocol, both ways: records encoded byte for byte as the official client encodes them
 * (test/records.test.ts checks it against the client's `Point`), and just enough parsing to
 * merge, count and read back lines we wrote ourselves (file store, spool, replay, reader,
 * report): split a line into series key, field set and timestamp, honouring escapes and
 * quoted strings, and decode it into a point.
 */
import type { DataRecord, FieldValue } from './records.ts';

// Escaping is the official client's (@influxdata/influxdb-client `escape`), byte for byte —
// test/records.test.ts checks it against the client's Point — written out here so that
// building records doesn't load the client. Most strings need no escaping at all.
const NEEDS_ESCAPE = /[,= \n\r\t]/;
const ESCAPES: { [char: string]: string } = { ',': '\\,', ' ': '\\ ', '=': '\\=', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const escapeMeasurement = (s: string): string => (NEEDS_ESCAPE.test(s) ? s.replace(/[, \n\r\t]/g, (c) => ESCAPES[c]!) : s);
const escapeKey = (s: string): string => (NEEDS_ESCAPE.test(s) ? s.replace(/[,= \n\r\t]/g, (c) => ESCAPES[c]!) : s);
const escapeString = (s: string): string => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;

function formatField(value: FieldValue): string {
  if (typeof value === 'number') {
    // Floats only: `1` is a float in line protocol; exponent notation is accepted too.
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return escapeString(value);
}

/**
 * Keys in code-unit order — what `Array.prototype.sort()` gives, and the official client's
 * order. Records have a handful of keys, often already almost in order: an insertion sort
 * in place beats the general sort's setup on arrays this small.
 */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > key) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = key;
  }
  return keys;
}

/** The series key (measurement and sorted, escaped tags) — what InfluxDB deduplicates on with the time. */
export function seriesKey(record: DataRecord): string {
  const tags = record.tags;
  let key = escapeMeasurement(record.measurement);
  for (const tag of sortedKeys(tags)) key += ',' + escapeKey(tag) + '=' + escapeKey(tags[tag]!);
  return key;
}

/** One line of line protocol with sorted tags, sorted fields and a timestamp in seconds. */
export function toLineProtocol(record: DataRecord): string {
  const fields = record.fields;
  let line = seriesKey(record);
  let separator = ' ';
  for (const key of sortedKeys(fields)) {
    line += separator + escapeKey(key) + '=' + formatField(fields[key]!);
    separator = ',';
  }
  return line + ' ' + record.time;
}


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

/** A decoded point: measurement, unescaped tags, numeric fields, time. */
export interface DecodedPoint {
  measurement: string;
  tags: { [tag: string]: string };
  fields: { [field: string]: number };
  time: number;
}

// Split on a separator that is not escaped with a backslash.
function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const unescape = (text: string): string => text.replace(/\\(.)/g, '$1');

/** Decode one line we wrote (seconds precision); string and boolean fields are left out. */
export function decodePoint(line: string, where: string): DecodedPoint {
  const split = splitLine(line);
  if (!split) throw new Error(`${where}: expected a line-protocol line "measurement,tag=v field=1 1700000000", got "${line.slice(0, 120)}"`);
  const [measurement, ...tagPairs] = splitUnescaped(split.series, ',');
  const tags: DecodedPoint['tags'] = {};
  for (const pair of tagPairs) {
    const [key, value] = splitUnescaped(pair, '=');
    tags[unescape(key!)] = unescape(value ?? '');
  }
  const fields: DecodedPoint['fields'] = {};
  for (const pair of split.fields) {
    const [key, value] = splitUnescaped(pair, '=');
    if (value === undefined || value.startsWith('"')) continue;
    const number = Number(value.replace(/i$/, ''));
    if (Number.isFinite(number)) fields[unescape(key!)] = number;
  }
  return { measurement: unescape(measurement!), tags, fields, time: Number(split.time) };
}
