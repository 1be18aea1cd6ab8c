/**
 * A set of line-protocol points with InfluxDB's write semantics: one point per series and
 * timestamp, a later write of the same point replacing the fields it names and keeping the
 * others. The file store keeps its months this way and the spool its backlog, so neither ever
 * holds a point twice.
 */
import { SourceDataError } from '../errors.ts';
import { fieldKey, splitFields, splitPairs } from '../lineprotocol.ts';

interface StoredPoint {
  series: string;
  time: string;
  /** The field set as written (our lines sort their fields), or merged pairs by key. */
  fields: string | Map<string, string>;
}

/** Points by series and time; `add` merges as InfluxDB does, `text` is sorted line protocol. */
export class PointSet {
  private readonly points = new Map<string, StoredPoint>();

  /** How many distinct points (series and time) the set holds. */
  get size(): number {
    return this.points.size;
  }

  /** Add one line; `where` names it in the error when it is not line protocol. */
  add(line: string, where: string): void {
    const split = splitFields(line);
    if (!split) throw new SourceDataError(`${where} is not valid line protocol`, line.slice(0, 200));
    const key = `${split.series} ${split.time}`;
    const point = this.points.get(key);
    // Most lines are new points, or the very same point again (a re-run): keep the text as is.
    if (!point) {
      this.points.set(key, { series: split.series, time: split.time, fields: split.fields });
      return;
    }
    if (point.fields === split.fields) return;
    // A different write of the same point: fields merge as InfluxDB merges them.
    const pairs = typeof point.fields === 'string' ? pairsByKey(point.fields) : point.fields;
    for (const [field, pair] of pairsByKey(split.fields)) pairs.set(field, pair);
    point.fields = pairs;
  }

  /** The lines, sorted by time then series (fields of merged points sorted by key). */
  lines(): string[] {
    const sorted = [...this.points.values()].sort((a, b) => Number(a.time) - Number(b.time) || (a.series < b.series ? -1 : a.series > b.series ? 1 : 0));
    return sorted.map((point) => {
      const fields = typeof point.fields === 'string' ? point.fields : [...point.fields.keys()].sort().map((k) => (point.fields as Map<string, string>).get(k)!).join(',');
      return `${point.series} ${fields} ${point.time}`;
    });
  }

  /** {@link lines} as file text, one line each with a final newline ('' when empty). */
  text(): string {
    const lines = this.lines();
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}

function pairsByKey(fields: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of splitPairs(fields)) pairs.set(fieldKey(pair), pair);
  return pairs;
}
